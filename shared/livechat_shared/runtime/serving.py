"""How a service runs as a process: the one uvicorn command line `make run`, the tests and the
benchmark use (the image's CMD spells the same for the container)."""

from __future__ import annotations

import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceProcessSpec:
    """A service as `make run` starts it: its name, package and where it listens by default."""

    name: str
    package: str
    env_prefix: str
    default_port: int


SERVICES = (
    ServiceProcessSpec("visitor-gateway", "visitor_gateway", "VISITOR_GATEWAY_", 8001),
    ServiceProcessSpec("queue-manager", "queue_manager", "QUEUE_MANAGER_", 8002),
    ServiceProcessSpec("session-service", "session_service", "SESSION_SERVICE_", 8003),
    ServiceProcessSpec("offline-messages", "offline_messages", "OFFLINE_MESSAGES_", 8004),
    ServiceProcessSpec("summary-projector", "summary_projector", "SUMMARY_PROJECTOR_", 8005),
)
"""The five services, in the order `make run` starts them."""

GRACEFUL_SHUTDOWN_SECONDS = 10
"""Open WebSockets and streams get this long to finish after SIGTERM before they are cut."""


def uvicorn_command(package: str, host: str, port: int) -> list[str]:
    """The command that serves `package.main:create_app` with this interpreter."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        f"{package}.main:create_app",
        "--host",
        host,
        "--port",
        str(port),
        "--no-access-log",
        # Compressing every frame cost the gateway more CPU than it saved (see README, Performance).
        "--ws-per-message-deflate",
        "false",
        "--timeout-graceful-shutdown",
        str(GRACEFUL_SHUTDOWN_SECONDS),
    ]
