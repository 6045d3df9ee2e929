"""Start a service as its own process, the way `make run` and Kubernetes do, and wait until ready."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
from livechat_shared.runtime.serving import uvicorn_command


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class ServiceProcess:
    def __init__(self, package: str, env: dict[str, str], log_path: Path) -> None:
        self.package = package
        self.port = free_port()
        self.env = {**os.environ, **env}
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> ServiceProcess:
        return self.launch().await_ready(timeout)

    def launch(self) -> ServiceProcess:
        """Start the process without waiting for it to be ready (a standby is not, yet)."""
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            uvicorn_command(self.package, "127.0.0.1", self.port),
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        return self

    def await_ready(self, timeout: float = 60.0) -> ServiceProcess:
        assert self.process is not None, "launch() it first"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.package} exited: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.kill()
        raise TimeoutError(f"{self.package} not ready: {self.log_path.read_text()[-2000:]}")

    def kill(self) -> None:
        """Crash it: SIGKILL, no graceful shutdown."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


def behind_the_gateway(
    env: dict[str, str], logs: Path
) -> tuple[ServiceProcess, ServiceProcess, ServiceProcess]:
    """The session service, offline messages and the projector (not started), and `env` told
    where they answer: the gateway processes made from it afterwards call them there."""
    sessions = ServiceProcess("session_service", env, logs / "session_service.log")
    offline = ServiceProcess("offline_messages", env, logs / "offline_messages.log")
    projector = ServiceProcess("summary_projector", env, logs / "summary_projector.log")
    env["VISITOR_GATEWAY_SESSION_SERVICE_URL"] = sessions.url
    env["VISITOR_GATEWAY_OFFLINE_MESSAGES_URL"] = offline.url
    env["VISITOR_GATEWAY_SUMMARY_PROJECTOR_URL"] = projector.url
    return sessions, offline, projector
