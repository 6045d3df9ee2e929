"""A private RabbitMQ node for tests that break the broker on purpose.

The shared node at 127.0.0.1:5672 is never stopped or restarted by a test; a test that needs a
broker outage starts its own node here (its own name, ports and data folder), restarts or stops it
at will, and removes it afterwards.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from tests.support.processes import free_port


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _hand_to_rabbitmq_user(folder: Path) -> None:
    """Started as root, rabbitmq-server drops to the `rabbitmq` user: it must own the folder."""
    if os.geteuid() != 0:
        return
    try:
        for path in (folder, *folder.iterdir()):
            shutil.chown(path, "rabbitmq", "rabbitmq")
    except LookupError:  # no such user: the server runs as whoever started it
        pass


class RabbitNode:
    """One RabbitMQ node of our own: `start()`, `stop()`, `restart()`, `url`."""

    def __init__(self, name: str | None = None) -> None:
        self.name = f"{name or 'test'}-{uuid.uuid4().hex[:6]}@localhost"
        self.port = free_port()
        self.dist_port = free_port()
        self.base = Path(tempfile.mkdtemp(prefix="rabbit-node-"))
        self.env = {
            **os.environ,
            "RABBITMQ_NODENAME": self.name,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(self.base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.base / "log"),
            # no management or Prometheus listeners: they would clash with the shared node
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.base / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(self.base / "rabbitmq"),
        }
        (self.base / "enabled_plugins").write_text("[].\n")
        (self.base / "rabbitmq.conf").write_text("loopback_users = none\n")
        _hand_to_rabbitmq_user(self.base)

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    def ctl(self, *args: str, timeout: float = 60.0) -> str:
        result = subprocess.run(
            ["rabbitmqctl", "-n", self.name, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )
        return result.stdout

    def start(self, timeout: float = 60.0) -> RabbitNode:
        subprocess.run(
            ["rabbitmq-server", "-detached"],
            env=self.env,
            check=True,
            capture_output=True,
            timeout=30,
        )
        self._await_up(timeout)
        return self

    def _await_up(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if _port_open(self.port):
                try:
                    self.ctl("await_startup", timeout=30)
                    return
                except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
                    pass
            time.sleep(0.3)
        raise TimeoutError(f"RabbitMQ node {self.name} did not start: see {self.base / 'log'}")

    def stop_app(self) -> None:
        """The broker goes away (clients are disconnected); the Erlang node stays."""
        self.ctl("stop_app")

    def start_app(self, timeout: float = 60.0) -> None:
        self.ctl("start_app")
        self._await_up(timeout)

    def restart(self, down_seconds: float = 0.0) -> None:
        """A broker restart as operators see it: every connection drops, queues come back."""
        self.stop_app()
        if down_seconds:
            time.sleep(down_seconds)
        self.start_app()

    def stop(self) -> None:
        try:
            self.ctl("stop", timeout=60)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            subprocess.run(["pkill", "-9", "-f", self.name], check=False)
        shutil.rmtree(self.base, ignore_errors=True)
