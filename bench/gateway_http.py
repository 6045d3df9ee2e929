"""`python -m bench.gateway_http`: the gateway's own CPU per command request, in this process.

Drives the gateway's ASGI app directly (no HTTP server, no client library in the measured
process), so the figure is what FastAPI, the routes and their dependencies cost per request,
plus whatever the route calls synchronously. The publisher only collects; a stub session
service (a separate process, plain Starlette on uvicorn) answers session look-ups, so a route
that looks a session up pays the gateway's side of that HTTP call. Prints CPU and wall time
per request for each route measured, the fastest of seven rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from livechat_shared.contracts import Message
from visitor_gateway.api.gateway import Gateway
from visitor_gateway.domain.auth import Caller, issue
from visitor_gateway.main import create_app
from visitor_gateway.settings import VisitorGatewaySettings

SECRET = "bench-secret-0123456789-0123456789-xyz"
SITE, OPERATOR, VISITOR = "acme", "ann", "v-bench"
SESSION = uuid.UUID("00000000-0000-4000-8000-000000000001")

_STUB = """
import sys, uvicorn
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route
body = sys.argv[2].encode()
async def session(request):
    return Response(body, media_type="application/json")
app = Starlette(routes=[Route("/v1/sites/{site}/sessions/{session}", session)])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
"""


class Collected:
    def __init__(self) -> None:
        self.count = 0

    async def publish(self, message: Message) -> None:
        self.count += 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _session_json() -> str:
    now = datetime.now(UTC).isoformat()
    return json.dumps(
        {
            "session_id": str(SESSION),
            "site_id": SITE,
            "visitor_id": VISITOR,
            "operator_id": OPERATOR,
            "channel": "chat",
            "status": "active",
            "started_at": now,
            "ended_at": None,
            "ended_by": None,
            "last_seq": 0,
        }
    )


def _request(app: Any, method: str, path: str, token: str, body: bytes) -> Callable[[], Any]:
    headers = [
        (b"host", b"gateway"),
        (b"authorization", f"Bearer {token}".encode()),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }

    async def one() -> int:
        sent = False
        status = 0

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                await asyncio.sleep(3600)
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]

        await app(dict(scope), receive, send)
        return status

    return one


async def _measure(name: str, one: Callable[[], Any], n: int, rounds: int = 7) -> dict[str, float]:
    """CPU and wall time per request: the fastest of `rounds` rounds of `n` requests (on a
    shared machine the others only add what the neighbours took)."""
    for _ in range(min(200, n)):  # warm up: caches, the HTTP client's connection
        status = await one()
    if status != 202:
        raise SystemExit(f"{name}: answered {status}, not 202")
    cpus, walls = [], []
    for _ in range(rounds):
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(n):
            await one()
        cpus.append((time.process_time() - cpu) / n * 1e6)
        walls.append((time.perf_counter() - wall) / n * 1e6)
    return {"cpu_us": min(cpus), "wall_us": min(walls)}


async def measure(port: int, n: int) -> None:
    settings = VisitorGatewaySettings.model_validate(
        {
            "token_secret": SECRET,
            "log_level": "WARNING",
            "session_service_url": f"http://127.0.0.1:{port}",
            "identity_requests_per_second": 1e9,
            "identity_request_burst": 10**9,
            "address_requests_per_second": 1e9,
            "address_request_burst": 10**9,
        }
    )
    app = create_app(settings)
    gateway = app.state.gateway
    assert isinstance(gateway, Gateway)
    gateway.publisher = Collected()
    day = timedelta(days=1)
    operator = issue(SECRET, Caller(role="operator", site_id=SITE, subject=OPERATOR), day)
    visitor = issue(SECRET, Caller(role="visitor", site_id=SITE, subject=VISITOR), day)
    message = json.dumps({"client_message_id": "m1", "text": "hello"}).encode()
    routes = {
        "POST /v1/operator/sessions/{id}/hold": _request(
            app, "POST", f"/v1/operator/sessions/{SESSION}/hold", operator, b""
        ),
        "POST /v1/visitor/sessions/{id}/messages": _request(
            app, "POST", f"/v1/visitor/sessions/{SESSION}/messages", visitor, message
        ),
        "POST /v1/visitor/chat-requests": _request(
            app, "POST", "/v1/visitor/chat-requests", visitor, b'{"channel": "chat"}'
        ),
        "POST /v1/operator/next": _request(
            app, "POST", "/v1/operator/next", operator, b'{"channel": "chat"}'
        ),
    }
    for name, one in routes.items():
        figures = await _measure(name, one, n)
        print(f"{name:44s} cpu {figures['cpu_us']:7.0f} µs  wall {figures['wall_us']:7.0f} µs")


def main(n: int) -> None:
    port = _free_port()
    stub = subprocess.Popen(
        [sys.executable, "-c", _STUB, str(port), _session_json()],
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        asyncio.run(measure(port, n))
    finally:
        stub.terminate()
        stub.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000, help="requests per route and round")
    main(parser.parse_args().n)
