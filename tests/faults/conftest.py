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

import pytest

from tests.faults.figures import Figures
from tests.faults.load import TOKEN_SECRET
from tests.faults.scenario import OFFER_TIMEOUT_SECONDS, Fleet, Run
from tests.support.fleet import LocalProcess
from tests.support.rabbit_node import RabbitNode

RESULTS_VARIABLE = "FAULTS_RESULTS_DIR"
"""Where the figures are written besides the run's temporary folder: `make faults` sets it to
tests/faults/results (quoted by the README); `make test` leaves the repository untouched."""
_figures: list[Figures] = []


def _services(node: RabbitNode, base: Path) -> dict[str, LocalProcess]:
    env = {
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
    queue_manager = service("queue_manager", "queue_manager")
    gateway = service("visitor_gateway", "gateway")
    # one after another: each declares its queues before the next one publishes to them
    return {
        "queue_manager": queue_manager,
        "session_service": sessions,
        "offline_messages": offline,
        "summary_projector": projector,
        "gateway": gateway,
    }


@pytest.fixture(scope="module")
def figures() -> Iterator[Figures]:
    # not pytest's tmp_path: pytest keeps only its last three runs' folders, and the logs of a
    # failed run must outlive the next test runs on a shared machine. Removed when all is well.
    if shutil.which("rabbitmq-server") is None:
        pytest.skip(
            "the fault suite starts its own RabbitMQ node: rabbitmq-server is not installed"
        )
    base = Path(tempfile.mkdtemp(prefix="livechat-faults-"))
    node = RabbitNode("faults").start()
    services = _services(node, base)
    try:
        for process in services.values():
            process.start()
        fleet = Fleet(node, services, services["gateway"].url, str(base / "logs"))
        result = asyncio.run(Run(fleet).run())
    finally:
        for process in services.values():
            process.stop()
        node.stop()
    result.details["service logs"] = [fleet.logs]
    _figures.append(result)
    _write(result, base)
    if os.environ.get(RESULTS_VARIABLE):
        _write(result, Path(os.environ[RESULTS_VARIABLE]))
    for line in result.lines():
        print(line)
    yield result
    if result.all_well():
        shutil.rmtree(base, ignore_errors=True)


def _write(figures: Figures, folder: Path) -> None:
    """The figures of the latest run (latest.md, latest.json), for the README to quote."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    (folder / "latest.json").write_text(
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
    (folder / "latest.md").write_text("\n".join(lines))


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
