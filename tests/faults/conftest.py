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

STANDBY_DELAY_SECONDS = 20.0
RESULTS_VARIABLE = "FAULTS_RESULTS_DIR"
"""Where the figures are written besides the run's temporary folder: `make faults` sets it to
tests/faults/results (quoted by the README); `make test` leaves the repository untouched."""
_figures: list[Figures] = []


def _services(
    node: RabbitNode, base: Path, partitions: int = 1, queue_managers: int = 1
) -> dict[str, LocalProcess]:
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

    sessions = service("session_service", "session_service")
    offline = service("offline_messages", "offline_messages")
    projector = service("summary_projector", "summary_projector")
    env["VISITOR_GATEWAY_SESSION_SERVICE_URL"] = sessions.url
    env["VISITOR_GATEWAY_OFFLINE_MESSAGES_URL"] = offline.url
    env["VISITOR_GATEWAY_SUMMARY_PROJECTOR_URL"] = projector.url
    if queue_managers == 1:
        queue_manager = {"queue_manager": service("queue_manager", "queue_manager")}
    else:
        queue_manager = {}
        for n in range(queue_managers):
            name = f"queue_manager_{n}"
            replica = service("queue_manager", name)
            replica.env.update(
                QUEUE_MANAGER_REPLICAS=str(queue_managers),
                QUEUE_MANAGER_REPLICA_ORDINAL=str(n),
                # the replicas start one after another: each gets its own partitions first
                QUEUE_MANAGER_STANDBY_DELAY_SECONDS=str(STANDBY_DELAY_SECONDS),
                # a replica back after its SIGKILL gets its partitions back within a round
                QUEUE_MANAGER_REBALANCE_SECONDS="10",
            )
            queue_manager[name] = replica
    gateway = service("visitor_gateway", "gateway")
    # one after another: each declares its queues before the next one publishes to them
    return {
        **queue_manager,
        "session_service": sessions,
        "offline_messages": offline,
        "summary_projector": projector,
        "gateway": gateway,
    }


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
    node = RabbitNode(name).start()
    services = _services(node, base, partitions, queue_managers)
    try:
        replicas = [p for n, p in services.items() if n.startswith("queue_manager_")]
        # the replicas together, as a StatefulSet's Parallel pods: each registers on its own
        # partitions before the others stand by for them
        asyncio.run(_start_together(replicas))
        for process in services.values():
            if process not in replicas:
                process.start()
        if queue_managers > 1:
            await_standbys(node, queue_managers, within=STANDBY_DELAY_SECONDS + 60)
        fleet = Fleet(node, services, services["gateway"].url, str(base / "logs"))
        run = Run(fleet, **plan)
        result = asyncio.run(run.run())
        if queue_managers > 1:
            failovers(result, run.killed_at, base / "logs")
    finally:
        for process in services.values():
            process.stop()
        node.stop()
    result.details["service logs"] = [fleet.logs]
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
    """3 queue-manager replicas sharing PARTITIONS partitions of many sites; two are killed."""
    yield from _run(
        "faults-partitions",
        "partitions",
        partitions=PARTITIONS,
        queue_managers=3,
        sites=PARTITION_SITES,
        schedule=PARTITION_FAULTS,
        fill_seconds=FILL_SECONDS,
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
