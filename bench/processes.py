"""The services as their own processes (uvicorn, as `make run` starts them), and their RSS."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import time
from pathlib import Path

import httpx
from livechat_shared.runtime.serving import uvicorn_command


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def rss_bytes(pid: int) -> int:
    """Resident set size of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Service:
    def __init__(self, package: str, env: dict[str, str], log_path: Path) -> None:
        self.package = package
        self.port = free_port()
        # The embedded stores: a MONGO_URL from the caller's shell must not reach the services.
        self.env = {k: v for k, v in os.environ.items() if k != "MONGO_URL"} | env
        self.log_path = log_path
        self.process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None, f"{self.package} is not running"
        return self.process.pid

    def rss(self) -> int:
        return rss_bytes(self.pid)

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:] if self.log_path.exists() else ""

    async def start(self, within: float = 60.0) -> Service:
        with self.log_path.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                *uvicorn_command(self.package, "127.0.0.1", self.port),
                env=self.env,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
            )
        deadline = time.monotonic() + within
        async with httpx.AsyncClient(base_url=self.url, timeout=1.0) as http:
            while time.monotonic() < deadline:
                if self.process.returncode is not None:
                    raise RuntimeError(f"{self.package} exited:\n{self.log_tail()}")
                try:
                    if (await http.get("/readyz")).status_code == 200:
                        return self
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
        await self.stop()
        raise TimeoutError(f"{self.package} not ready within {within} s:\n{self.log_tail()}")

    async def metrics(self) -> str:
        async with httpx.AsyncClient(base_url=self.url, timeout=10.0) as http:
            response = await http.get("/metrics")
            response.raise_for_status()
            return response.text

    async def stop(self) -> None:
        process = self.process
        if process is None or process.returncode is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 15)
        except TimeoutError:
            process.kill()
            await process.wait()
