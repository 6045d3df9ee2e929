"""Assignment latency: a visitor's chat request at the gateway → ChatOffered on an operator's socket.

Per arrival rate, a fresh site with enough operators online (operators x max chats exceeds the
visitors, and nobody answers, so every request is offered at once). Visitor identities are
created before the timed phase; then chat requests go out open-loop at the rate over as many
keep-alive HTTP connections as they need (bench.http1, whose cost stays flat when requests
queue), and each visitor's scheduled send time is matched with the arrival of its
offer on the operator sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
from visitor_gateway.domain.auth import Caller, issue
from websockets.asyncio.client import ClientConnection, connect

from bench.http1 import Http1Pool
from bench.pacing import open_loop
from bench.stats import percentile, summary_ms

Clocks = dict[str, Callable[[], float]]
"""CPU seconds used so far, by name: each service process, the bench client, the broker..."""

CHAT_REQUEST = {"channel": "chat", "badge": {"name": "Bench visitor"}}
IDENTITY_CONCURRENCY = 32
SETUP_ATTEMPTS = 10
HTTP_LIMITS = httpx.Limits(max_connections=256, max_keepalive_connections=256)
RETRIES_503 = 3
"""A chat request answered 503 is sent again after its Retry-After, at most this often."""


@dataclass
class _Consoles:
    """The operator sockets of one site, noting when each visitor's first offer arrives."""

    expected: int
    offered_at: dict[str, float] = field(default_factory=dict)
    online: set[str] = field(default_factory=set)
    all_offered: asyncio.Event = field(default_factory=asyncio.Event)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    sockets: list[ClientConnection] = field(default_factory=list)
    readers: list[asyncio.Task[None]] = field(default_factory=list)

    async def open(self, ws_url: str, operator_id: str, token: str) -> None:
        socket = await connect(f"{ws_url}/v1/operator/ws?token={token}", max_queue=None)
        self.sockets.append(socket)
        hello = json.loads(await socket.recv())
        assert hello["type"] == "Connected", hello
        self.readers.append(asyncio.create_task(self._read(socket, operator_id)))

    async def _read(self, socket: ClientConnection, operator_id: str) -> None:
        async for raw in socket:
            arrived = time.perf_counter()
            text = raw if isinstance(raw, str) else raw.decode()
            if '"ChatOffered"' in text:
                self.offered_at.setdefault(json.loads(text)["visitor_id"], arrived)
                if len(self.offered_at) >= self.expected:
                    self.all_offered.set()
            elif '"OperatorPresenceChanged"' in text:
                self.online.add(operator_id)
                self.changed.set()

    async def wait_online(self, count: int, within: float) -> None:
        async with asyncio.timeout(within):
            while len(self.online) < count:
                self.changed.clear()
                await self.changed.wait()

    async def close(self) -> None:
        for socket in self.sockets:
            await socket.close()
        await asyncio.gather(*self.readers, return_exceptions=True)


async def _gather_limited(limit: int, calls: list[Any]) -> list[Any]:
    gate = asyncio.Semaphore(limit)

    async def one(call: Any) -> Any:
        async with gate:
            return await call

    return await asyncio.gather(*(one(c) for c in calls))


async def _setup_call(http: httpx.AsyncClient, method: str, url: str, **kw: Any) -> httpx.Response:
    """A set-up request, retried when nothing was done: the server closed a kept-alive
    connection as it was reused (uvicorn's keep-alive timeout racing a busy client), or the
    gateway answered 503 (a queue it sends to not there yet), after its Retry-After."""
    for attempt in range(SETUP_ATTEMPTS):
        last = attempt == SETUP_ATTEMPTS - 1
        try:
            response = await http.request(method, url, **kw)
        except httpx.RemoteProtocolError:
            if last:
                raise
            continue
        if response.status_code == 503 and not last:
            await asyncio.sleep(min(5.0, float(response.headers.get("Retry-After", "1"))))
            continue
        response.raise_for_status()
        return response
    raise AssertionError("unreachable")


async def _new_visitor(http: httpx.AsyncClient, site: str) -> tuple[str, str]:
    response = await _setup_call(http, "POST", f"/v1/sites/{site}/visitors")
    body = response.json()
    return str(body["visitor_id"]), str(body["token"])


async def _online(http: httpx.AsyncClient, token: str) -> None:
    await _setup_call(
        http,
        "PUT",
        "/v1/operator/presence",
        json={"presence": "online"},
        headers={"Authorization": f"Bearer {token}"},
    )


@dataclass
class Timed:
    """One timed block of chat requests: per visitor, in the order they were sent."""

    latencies: list[float]
    """Scheduled send → offer on the socket (a lower bound for an offer that never came)."""
    http_seconds: list[float]
    slip: list[float]
    outcomes: dict[str, int]
    missing: int
    operators: int
    send_seconds: float
    wall: float
    cpu: dict[str, float]
    opened: int | None


async def timed_block(
    http: httpx.AsyncClient,
    gateway_url: str,
    secret: str,
    rate: float,
    seconds: float,
    max_chats: int,
    offer_wait: float,
    clocks: Clocks,
    client: str,
) -> Timed:
    site = f"bench-assign-{int(rate)}-{uuid.uuid4().hex[:6]}"
    visitors = max(1, int(rate * seconds))
    operators = math.ceil(visitors * 1.2 / max_chats) + 1
    consoles = _Consoles(expected=visitors)
    ws_url = gateway_url.replace("http://", "ws://")
    try:
        tokens = {
            f"op-{i}": issue(secret, Caller("operator", site, f"op-{i}"), timedelta(hours=1))
            for i in range(operators)
        }
        await _gather_limited(
            16, [consoles.open(ws_url, op, token) for op, token in tokens.items()]
        )
        await _gather_limited(16, [_online(http, token) for token in tokens.values()])
        await consoles.wait_online(operators, within=30)
        identities = await _gather_limited(
            IDENTITY_CONCURRENCY, [_new_visitor(http, site) for _ in range(visitors)]
        )

        scheduled = [0.0] * visitors
        slip = [0.0] * visitors
        answered = [0.0] * visitors
        outcomes: dict[str, int] = {}
        requests: set[asyncio.Task[None]] = set()

        lean = Http1Pool(gateway_url) if client == "lean" else None
        body = json.dumps(CHAT_REQUEST).encode()

        async def post(token: str) -> str:
            try:
                if lean is not None:
                    return str(await lean.post_json("/v1/visitor/chat-requests", body, token))
                response = await http.post(
                    "/v1/visitor/chat-requests",
                    content=body,
                    headers={
                        "Authorization": f"Bearer {token}",
                        "Content-Type": "application/json",
                    },
                )
                return str(response.status_code)
            except (httpx.HTTPError, OSError, asyncio.IncompleteReadError, ValueError) as error:
                return type(error).__name__

        async def ask(i: int) -> None:
            token = identities[i][1]
            outcome = await post(token)
            for _ in range(RETRIES_503):
                if outcome != "503":
                    break
                # "temporarily unavailable, retry shortly" (Retry-After: 1): the widget asks
                # again, so does the bench; its latency counts from the first try
                outcomes["503 then asked again"] = outcomes.get("503 then asked again", 0) + 1
                await asyncio.sleep(1.0)
                outcome = await post(token)
            answered[i] = time.perf_counter()
            outcomes[outcome] = outcomes.get(outcome, 0) + 1

        def launch(i: int, at: float) -> None:
            scheduled[i] = at
            slip[i] = time.perf_counter() - at
            task = asyncio.create_task(ask(i))
            requests.add(task)
            task.add_done_callback(requests.discard)

        cpu_before = _read(clocks)
        wall_before = time.perf_counter()
        await open_loop(visitors, rate, launch)
        last_sent = time.perf_counter()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(consoles.all_offered.wait(), timeout=offer_wait)
        gave_up = time.perf_counter()
        await asyncio.gather(*requests)
        cpu_after = _read(clocks)
        wall = time.perf_counter() - wall_before
        if lean is not None:
            await lean.close()
        latencies = []
        missing = 0
        for i, (visitor_id, _) in enumerate(identities):
            arrived = consoles.offered_at.get(visitor_id)
            if arrived is None:
                missing += 1
                arrived = gave_up  # a lower bound: it had not arrived when we stopped waiting
            latencies.append(arrived - scheduled[i])
        return Timed(
            latencies=latencies,
            http_seconds=[answered[i] - scheduled[i] for i in range(visitors) if answered[i]],
            slip=slip,
            outcomes=outcomes,
            missing=missing,
            operators=operators,
            send_seconds=last_sent - scheduled[0],
            wall=wall,
            cpu={k: cpu_after[k] - cpu_before[k] for k in cpu_after},
            opened=lean.opened if lean is not None else None,
        )
    finally:
        await consoles.close()


def _added(seconds: list[dict[str, float]]) -> dict[str, float]:
    """Key by key sums (a key whose sum is 0 stays, unlike a Counter's)."""
    total: dict[str, float] = {}
    for one in seconds:
        for key, value in one.items():
            total[key] = total.get(key, 0.0) + value
    return total


def summarize(
    blocks: list[Timed], rate: float, max_chats: int, offer_wait: float, client: str
) -> dict[str, Any]:
    """The figures of one or more timed blocks at `rate`, taken together."""
    latencies = [x for b in blocks for x in b.latencies]
    http_seconds = [x for b in blocks for x in b.http_seconds]
    outcomes = sum((Counter(b.outcomes) for b in blocks), Counter[str]())
    missing = sum(b.missing for b in blocks)
    cpu = _added([b.cpu for b in blocks])
    opened = [b.opened for b in blocks if b.opened is not None]
    fifth = max(1, len(latencies) // 5)  # a growing backlog shows as a later last fifth
    return {
        **summary_ms(latencies),
        "first_fifth_p50_ms": round(percentile(latencies[:fifth], 50) * 1000, 3),
        "last_fifth_p50_ms": round(percentile(latencies[-fifth:], 50) * 1000, 3),
        "rate_per_s": rate,
        "visitors": len(latencies),
        "operators": sum(b.operators for b in blocks),
        "max_chats": max_chats,
        "offers_missing": missing,
        "offers_arrived": len(latencies) - missing,
        "offer_wait_s": offer_wait,
        "send_seconds": round(sum(b.send_seconds for b in blocks), 3),
        "http_outcomes": dict(sorted(outcomes.items())),
        "http_response_ms": summary_ms(http_seconds) if http_seconds else None,
        "client_send_slip_ms": summary_ms([x for b in blocks for x in b.slip]),
        "http_client": client,
        "http_connections_opened": sum(opened) if opened else None,
        "timed_wall_s": round(sum(b.wall for b in blocks), 3),
        "cpu_seconds": {k: round(v, 3) for k, v in cpu.items()},
        **({"blocks": len(blocks)} if len(blocks) > 1 else {}),
    }


def _read(clocks: Clocks) -> dict[str, float]:
    return {name: clock() for name, clock in clocks.items()}


async def measure(
    gateway_url: str,
    secret: str,
    rates: tuple[float, ...],
    seconds: tuple[float, ...],
    max_chats: int,
    offer_wait: float,
    clocks: Clocks,
    client: str = "lean",
) -> dict[str, dict[str, Any]]:
    """Each rate on its own fresh site, sustained for its seconds, after an unrecorded warm-up;
    `clocks` are the CPU times each timed phase reports. The timed chat requests go through the
    lean client (bench.http1) unless `client` is "httpx"; set-up calls always use httpx."""
    async with httpx.AsyncClient(base_url=gateway_url, limits=HTTP_LIMITS, timeout=60.0) as http:
        # Warm-up (not recorded): connections, the gateway's and queue manager's first messages.
        await timed_block(
            http, gateway_url, secret, 50.0, 0.4, max_chats, offer_wait, clocks, client
        )
        results = {}
        for rate, sustained in zip(rates, seconds, strict=True):
            timed = await timed_block(
                http, gateway_url, secret, rate, sustained, max_chats, offer_wait, clocks, client
            )
            results[f"{int(rate)}"] = summarize([timed], rate, max_chats, offer_wait, client)
        return results


async def alternating(
    gateways: dict[str, tuple[str, Clocks]],
    secret: str,
    rate: float,
    seconds: float,
    rounds: int,
    max_chats: int,
    offer_wait: float,
    client: str = "lean",
) -> dict[str, dict[str, Any]]:
    """Several systems (name -> gateway URL and clocks) at the same `rate` for `seconds` each,
    in `rounds` blocks taking turns, so that what else a shared machine does meanwhile falls on
    all of them alike; each system's blocks are summarized together."""
    blocks: dict[str, list[Timed]] = {name: [] for name in gateways}
    async with contextlib.AsyncExitStack() as stack:
        https = {
            name: await stack.enter_async_context(
                httpx.AsyncClient(base_url=url, limits=HTTP_LIMITS, timeout=60.0)
            )
            for name, (url, _) in gateways.items()
        }
        for name, (url, clocks) in gateways.items():  # warm-up, not recorded
            await timed_block(
                https[name], url, secret, 50.0, 0.4, max_chats, offer_wait, clocks, client
            )
        for _ in range(rounds):
            for name, (url, clocks) in gateways.items():
                blocks[name].append(
                    await timed_block(
                        https[name],
                        url,
                        secret,
                        rate,
                        seconds / rounds,
                        max_chats,
                        offer_wait,
                        clocks,
                        client,
                    )
                )
    return {
        name: summarize(timed, rate, max_chats, offer_wait, client)
        for name, timed in blocks.items()
    }
