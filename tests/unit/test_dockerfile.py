"""The image's HEALTHCHECK asks /healthz on the port its command serves, and fails otherwise.

The check itself (a Python one-liner: the slim image has no curl) is taken from the
Dockerfile and run here, with PID 1's command line replaced by a file of ours and a small
HTTP server standing in for the service.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.support.servers import serving

DOCKERFILE = Path(__file__).resolve().parents[2] / "Dockerfile"


def _healthcheck() -> list[str]:
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    (line,) = [x for x in text.splitlines() if x.startswith("HEALTHCHECK ")]
    command = json.loads(re.sub(r"^HEALTHCHECK\s+(--\S+\s+)*CMD\s+", "", line))
    assert isinstance(command, list) and command[:2] == ["python", "-c"], command
    return command


@contextmanager
def _service(status: int) -> Iterator[int]:
    """A stand-in answering `status` on /healthz and 404 elsewhere; yields its port."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status if self.path == "/healthz" else 404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    with serving(ThreadingHTTPServer(("127.0.0.1", 0), Handler)) as port:
        yield port


def _run(tmp_path: Path, port: int) -> int:
    cmdline = tmp_path / "cmdline"
    argv = ["/app/.venv/bin/python3", "/app/.venv/bin/uvicorn", "--factory",
            "session_service.main:create_app", "--host", "0.0.0.0", "--port", str(port),
            "--timeout-graceful-shutdown", "10"]  # fmt: skip
    cmdline.write_bytes(b"\0".join(a.encode() for a in argv) + b"\0")
    _, flag, code = _healthcheck()
    code = code.replace("/proc/1/cmdline", str(cmdline))
    return subprocess.run([sys.executable, flag, code], capture_output=True, timeout=30).returncode


def test_healthy_when_healthz_answers_200_on_the_commands_port(tmp_path: Path) -> None:
    with _service(200) as port:
        assert _run(tmp_path, port) == 0


@pytest.mark.parametrize("status", [500, 503])
def test_unhealthy_when_healthz_fails(tmp_path: Path, status: int) -> None:
    with _service(status) as port:
        assert _run(tmp_path, port) != 0


def test_unhealthy_when_nothing_listens(tmp_path: Path) -> None:
    with _service(200) as port:
        pass  # closed again: nothing listens on it now
    assert _run(tmp_path, port) != 0
