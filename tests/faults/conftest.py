"""The system under faults: a private RabbitMQ node, the five services as processes on it (embedded
mode, their files in a temporary folder), and one run of load and faults shared by the checks."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.faults.figures import Figures
from tests.faults.load import TOKEN_SECRET
from tests.faults.partitions import (
    FILL_SECONDS,
    PARTITION_FAULTS,
    PARTITION_SITES,
    PARTITIONS,
    await_standbys,
    failovers,
)
from tests.faults.scenario import OFFER_TIMEOUT_SECONDS, Fleet, Run
from tests.support.fleet import LocalProcess
from tests.support.rabbit_node import RabbitNode
from tests.support.round_robin import RoundRobinFront
from tests.support.sources import code_changes, source_fingerprint

STANDBY_DELAY_SECONDS = 20.0
PAIR_STANDBY_DELAY_SECONDS = 6.0
"""The services run in pairs stand by sooner: the second kill (of the other ordinal) comes
soon after the first replica is back, and only it can take the partitions over then."""
RESULTS_VARIABLE = "FAULTS_RESULTS_DIR"
"""Where the figures are written besides the run's temporary folder: `make faults` sets it to
tests/faults/results (quoted by the README); `make test` leaves the repository untouched."""
_figures: list[Figures] = []


def _services(
    node: RabbitNode, base: Path, partitions: int = 1, queue_managers: int = 1, pairs: bool = False
) -> tuple[dict[str, LocalProcess], list[RoundRobinFront]]:
    """The processes by name (a replica's name ends in its ordinal), and the round-robin fronts
    of the services run in pairs (`pairs`: the session service, offline messages and the
    projector, two replicas each sharing their embedded store, as a StatefulSet of 2)."""
    env = {
        "PARTITIONS": str(partitions),
        "AMQP_URL": node.url,
        "INTERNAL_API_TOKEN": "faults-internal-token-0123456789",
        "VISITOR_GATEWAY_TOKEN_SECRET": TOKEN_SECRET,
        "QUEUE_MANAGER_OFFER_TIMEOUT_SECONDS": str(OFFER_TIMEOUT_SECONDS),
        "QUEUE_MANAGER_INVITATION_TIMEOUT_SECONDS": str(OFFER_TIMEOUT_SECONDS),
        # sockets stay open in this run; a visitor's chat ends only when the load ends it
        "SESSION_SERVICE_VISITOR_GRACE_SECONDS": "30",
    }
    work = base / "work"  # every service's working directory: `.data/` lands here, as in `make run`
    logs = base / "logs"
    logs.mkdir()

    def service(package: str, name: str) -> LocalProcess:
        process = LocalProcess(package, env, logs / f"{name}.log", work, name)
        process.env.pop("MONGO_URL", None)  # the embedded mode, whatever the caller's shell says
        return process

    def replicas(package: str, count: int, standby_delay: float) -> dict[str, LocalProcess]:
        if count == 1:
            return {package: service(package, package)}
        found = {}
        prefix = package.upper()
        for n in range(count):
            replica = service(package, f"{package}_{n}")
            replica.env.update(
                {
                    f"{prefix}_REPLICAS": str(count),
                    f"{prefix}_REPLICA_ORDINAL": str(n),
                    # started together: each gets its own partitions first
                    f"{prefix}_STANDBY_DELAY_SECONDS": str(standby_delay),
                    # a replica back after its SIGKILL gets its partitions back within a round
                    f"{prefix}_REBALANCE_SECONDS": "10",
                }
            )
            found[replica.name] = replica
        return found

    queue_manager = replicas("queue_manager", queue_managers, STANDBY_DELAY_SECONDS)
    paired: dict[str, LocalProcess] = {}
    fronts = []
    for package, url in (
        ("session_service", "VISITOR_GATEWAY_SESSION_SERVICE_URL"),
        ("offline_messages", "VISITOR_GATEWAY_OFFLINE_MESSAGES_URL"),
        ("summary_projector", "VISITOR_GATEWAY_SUMMARY_PROJECTOR_URL"),
    ):
        these = replicas(package, 2 if pairs else 1, PAIR_STANDBY_DELAY_SECONDS)
        paired.update(these)
        if pairs:
            # the gateway reaches the pair through a front, as through a Kubernetes Service
            front = RoundRobinFront([p.port for p in these.values()])
            fronts.append(front)
            env[url] = front.url
        else:
            env[url] = next(iter(these.values())).url
    gateway = service("visitor_gateway", "gateway")
    # one after another: each declares its queues before the next one publishes to them
    return {**queue_manager, **paired, "gateway": gateway}, fronts


def _replicas_of(services: dict[str, LocalProcess], package: str) -> list[LocalProcess]:
    return [p for p in services.values() if p.package == package]


async def _start_together(processes: list[LocalProcess]) -> None:
    await asyncio.gather(*(asyncio.to_thread(p.start) for p in processes))


def _run(
    name: str, results: str, partitions: int = 1, queue_managers: int = 1, **plan: Any
) -> Iterator[Figures]:
    # not pytest's tmp_path: pytest keeps only its last three runs' folders, and the logs of a
    # failed run must outlive the next test runs on a shared machine. Removed when all is well.
    if shutil.which("rabbitmq-server") is None:
        pytest.skip(
            "the fault suite starts its own RabbitMQ node: rabbitmq-server is not installed"
        )
    base = Path(tempfile.mkdtemp(prefix=f"livechat-{name}-"))
    began = source_fingerprint()
    node = RabbitNode(name).start()
    pairs = queue_managers > 1
    services, fronts = _services(node, base, partitions, queue_managers, pairs)
    try:
        for front in fronts:
            front.start()
        # each service's replicas together, as a StatefulSet's Parallel pods: each registers
        # on its own partitions before the others stand by for them; the services one after
        # another, so each declares its queues before the next one publishes to them
        for package in (
            "queue_manager",
            "session_service",
            "offline_messages",
            "summary_projector",
        ):
            asyncio.run(_start_together(_replicas_of(services, package)))
        services["gateway"].start()
        if queue_managers > 1:
            await_standbys(node, services, within=STANDBY_DELAY_SECONDS + 60)
        fleet = Fleet(node, services, services["gateway"].url, str(base / "logs"))
        run = Run(fleet, **plan)
        result = asyncio.run(run.run())
        if queue_managers > 1:
            failovers(result, run.killed_at, base / "logs")
    finally:
        for process in services.values():
            process.stop()
        for front in fronts:
            front.stop()
        node.stop()
    result.details["service logs"] = [fleet.logs]
    changed = code_changes(began, {n: p.sources for n, p in services.items()})
    result.code_changed = len(changed)
    result.details["code changed during the run"] = changed
    _figures.append(result)
    _write(result, base, results)
    if os.environ.get(RESULTS_VARIABLE):
        _write(result, Path(os.environ[RESULTS_VARIABLE]), results)
    for line in result.lines():
        print(line)
    yield result
    if result.all_well():
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def figures() -> Iterator[Figures]:
    yield from _run("faults", "latest")


@pytest.fixture(scope="module")
def partition_figures() -> Iterator[Figures]:
    """3 queue-manager replicas and 2 of each other stateful service sharing PARTITIONS
    partitions of many sites; one replica of each is killed, then another."""
    yield from _run(
        "faults-partitions",
        "partitions",
        partitions=PARTITIONS,
        queue_managers=3,
        sites=PARTITION_SITES,
        schedule=PARTITION_FAULTS,
        fill_seconds=FILL_SECONDS,
        messages_after_killing="offline_messages",
    )


def _write(figures: Figures, folder: Path, results: str) -> None:
    """The figures of the latest run (latest.md, latest.json; partitions.*), for the README."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    (folder / f"{results}.json").write_text(
        json.dumps({"run_at": stamp, **asdict(figures)}, indent=2) + "\n"
    )
    lines = [
        f"# Fault suite, latest run ({stamp})",
        "",
        f"Faults: {'; '.join(figures.faults)}.",
        "",
        "```",
        *figures.lines(),
        "```",
        "",
    ]
    for name, found in figures.details.items():
        if found:
            lines += [f"## {name}", "", *(f"- {item}" for item in found[:40]), ""]
    (folder / f"{results}.md").write_text("\n".join(lines))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for figures in _figures:
        terminalreporter.section("fault suite figures")
        for line in figures.lines():
            terminalreporter.write_line(line)
        base = Path(figures.details["service logs"][0]).parent
        if figures.all_well():
            terminalreporter.write_line("faults: all well; the run's folder was removed")
        else:
            terminalreporter.write_line(f"faults: service logs and latest.md kept in {base}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The fault suite runs last in a whole run: it is the longest (minutes), so every other
    failure shows sooner, and tests that issue short-lived tokens at collection time run while
    those are still valid."""
    items.sort(key=lambda item: "tests/faults/" in item.nodeid)
