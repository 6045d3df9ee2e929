"""The services as their own processes (uvicorn, as `make run` starts them, optionally under
py-spy), and what /proc says about them and the broker: RSS and CPU time."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import sys
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


def machine_cpu_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, all cores, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]]
    idle = fields[3] + fields[4]  # idle + iowait
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(fields) - idle) / tick, sum(fields) / tick


def _listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if parts[3] == "0A" and int(parts[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(parts[9])
    return inodes


def broker_pid(amqp_port: int) -> int | None:
    """The beam.smp process listening on the AMQP port (the node the bench uses, not another
    node on the machine); the only beam.smp when the sockets cannot be read; else None."""
    beams = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "beam.smp":
                    beams.append(int(entry.name))
            except OSError:
                continue
    inodes = {f"socket:[{inode}]" for inode in _listening_inodes(amqp_port)}
    for pid in beams:
        try:
            links = {os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()}
        except OSError:
            continue
        if links & inodes:
            return pid
    return beams[0] if len(beams) == 1 else None


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


class Service:
    def __init__(
        self, package: str, env: dict[str, str], log_path: Path, profile: Path | None = None
    ) -> None:
        self.package = package
        self.port = free_port()
        # The embedded stores: a MONGO_URL from the caller's shell must not reach the services.
        self.env = {k: v for k, v in os.environ.items() if k != "MONGO_URL"} | env
        self.log_path = log_path
        self.profile = profile
        """Where py-spy writes a speedscope profile of the whole process life (None: no py-spy)."""
        self.process: asyncio.subprocess.Process | None = None
        self._service_pid: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        """The service's own process (py-spy's child when profiled)."""
        assert self.process is not None, f"{self.package} is not running"
        return self._service_pid or self.process.pid

    def rss(self) -> int:
        return rss_bytes(self.pid)

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:] if self.log_path.exists() else ""

    def _command(self) -> list[str]:
        command = uvicorn_command(self.package, "127.0.0.1", self.port)
        if self.profile is None:
            return command
        # py-spy starts the service as its child (so no ptrace permission beyond that is needed)
        # and samples it without pausing it (--nonblocking), idle threads left out.
        py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        return [
            py_spy,
            "record",
            "--nonblocking",
            "--rate",
            "100",
            "--format",
            "speedscope",
            "--output",
            str(self.profile),
            "--",
            *command,
        ]

    async def start(self, within: float = 60.0) -> Service:
        self._service_pid = None
        with self.log_path.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                *self._command(),
                env=self.env,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
            )
        deadline = time.monotonic() + within
        if self.profile is not None:
            while not (children := _children(self.process.pid)):
                if time.monotonic() > deadline or self.process.returncode is not None:
                    raise RuntimeError(f"py-spy started no service:\n{self.log_tail()}")
                await asyncio.sleep(0.05)
            self._service_pid = children[0]
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
        # Profiled: the service stops, and py-spy then writes its profile and exits.
        if self._service_pid is not None:
            os.kill(self._service_pid, signal.SIGTERM)
        else:
            process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 15)
        except TimeoutError:
            process.kill()
            await process.wait()
