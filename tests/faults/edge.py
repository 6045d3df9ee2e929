"""The gateway as clients reach it: pooled HTTP with the retries a widget or console makes, and
sockets that reconnect.

A client retries what the product asks it to retry: a `503` (with `Retry-After`) while a
dependency or the broker is down, and a socket that closed. Anything else the gateway answers
with 5xx is also retried (a user presses the button again) but counted apart as `unexpected`,
since the README promises 503 there; a connection reset is retried and counted as a transport
error.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import websockets

Frame = dict[str, Any]


@dataclass
class Tally:
    """What the clients met: retried 503s (promised), anything else unexpected."""

    retried_503: int = 0
    unexpected: Counter[str] = field(default_factory=Counter)
    transport_errors: Counter[str] = field(default_factory=Counter)
    transport_times: list[float] = field(default_factory=list)
    socket_reconnects: int = 0
    gave_up: Counter[str] = field(default_factory=Counter)


class Edge:
    """The gateway as every client reaches it: one pooled HTTP client, retries per request."""

    def __init__(self, base_url: str, tally: Tally, give_up_after: float = 45.0) -> None:
        self.base_url = base_url
        self.ws_url = base_url.replace("http://", "ws://")
        self.tally = tally
        self.give_up_after = give_up_after
        self.http = httpx.AsyncClient(
            base_url=base_url,
            timeout=10.0,
            # idle connections are dropped well before uvicorn's 5 s keep-alive closes them, so a
            # request never races the server's close (a client-side ReadError, not the product's)
            limits=httpx.Limits(
                max_connections=60, max_keepalive_connections=60, keepalive_expiry=1.0
            ),
        )

    async def close(self) -> None:
        await self.http.aclose()

    async def request(
        self, method: str, path: str, token: str | None = None, json: Any = None
    ) -> httpx.Response | None:
        """The answer once it is not a 5xx; None if it stayed unavailable past the bound."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.give_up_after
        what = f"{method} {_route(path)}"
        while loop.time() < deadline:
            try:
                response = await self.http.request(method, path, headers=headers, json=json)
            except httpx.HTTPError as error:
                self.tally.transport_errors[f"{type(error).__name__} on {what}"] += 1
                self.tally.transport_times.append(loop.time())
                await asyncio.sleep(0.5)
                continue
            if response.status_code == 503:
                self.tally.retried_503 += 1
                retry_after = response.headers.get("Retry-After", "1")
                await asyncio.sleep(min(2.0, float(retry_after) if retry_after.isdigit() else 1.0))
                continue
            if response.status_code >= 500:
                self.tally.unexpected[f"http {response.status_code} on {what}"] += 1
                await asyncio.sleep(0.5)
                continue
            return response
        self.tally.gave_up[what] += 1
        return None


def _route(path: str) -> str:
    """The path with its ids (sessions, offers, sites) left out: what kind of request it was."""
    words = path.split("?")[0].split("/")
    return "/".join(
        "{id}" if any(c.isdigit() for c in w) or w.startswith("faults-") else w for w in words
    )


class Socket:
    """A console's or widget's socket: reconnects whenever it closes, until closed on purpose."""

    def __init__(self, edge: Edge, path: str, token: str, on_frame: Callable[[Frame], None]):
        self.edge = edge
        self.url = f"{edge.ws_url}{path}?token={token}"
        self.on_frame = on_frame
        self.connected = asyncio.Event()
        self.closing = False
        self._task: asyncio.Task[None] | None = None

    def open(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        first = True
        while not self.closing:
            try:
                async with websockets.connect(self.url, open_timeout=5, close_timeout=1) as ws:
                    if not first:
                        self.edge.tally.socket_reconnects += 1
                    first = False
                    async for raw in ws:
                        frame = json.loads(raw)
                        if frame.get("type") == "Connected":
                            self.connected.set()
                        self.on_frame(frame)
            except (OSError, websockets.WebSocketException, TimeoutError):
                pass
            self.connected.clear()
            if not self.closing:
                await asyncio.sleep(0.5)

    async def close(self) -> None:
        self.closing = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task


class Crowd:
    """Background tasks of the load, cancelled together at the end."""

    def __init__(self) -> None:
        self.tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, work: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def cancel(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
