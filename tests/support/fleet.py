"""The five services as processes on one broker, each working in a folder of its own run.

Unlike `ServiceProcess` alone, every process here runs with its working directory in the run's
temporary folder, so whatever a service keeps on disk in the embedded mode (`.data/...`, the
journal) lands there and survives a SIGKILL and restart of that service, never in the repository.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import httpx
from livechat_shared.runtime.serving import uvicorn_command

from tests.support.processes import ServiceProcess
from tests.support.sources import source_fingerprint


class LocalProcess(ServiceProcess):
    """A service process that starts in `workdir` and can be killed and started again."""

    def __init__(
        self, package: str, env: dict[str, str], log_path: Path, workdir: Path, name: str
    ) -> None:
        super().__init__(package, env, log_path)
        self.workdir = workdir
        self.name = name
        self.starts = 0
        self.sources: list[str] = []
        """The fingerprint of the sources at each start (what that start imported)."""

    def start(self, timeout: float = 120.0) -> LocalProcess:
        """Start (again, on the same port) and wait until `/readyz` answers 200."""
        self.starts += 1
        self.sources.append(source_fingerprint())
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        log.write(
            f"\n----- start #{self.starts} of {self.name} at {time.time():.3f} "
            f"(sources {self.sources[-1]})\n".encode()
        )
        log.flush()
        self.process = subprocess.Popen(
            uvicorn_command(self.package, "127.0.0.1", self.port),
            env=self.env,
            cwd=self.workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self.await_ready(timeout)
        return self

    def ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/readyz", timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False
