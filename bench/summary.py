"""Event → Communication Summary lag at a steady event rate, read from the projector's histogram.

Events of whole conversations (queued, offered, started, hold, resume, end: the ones the projector
binds; chat messages no longer reach it) go out open-loop at the rate, spread over a few sites, each stamped `occurred_at` as it is published.
The projector observes now - occurred_at for every event it applies
(`livechat_summary_projection_lag_seconds`); the bench takes the histogram's change over the
timed phase and its p99 (within a bucket, as Prometheus interpolates). A projector without that
histogram, or without `GET /v1/sites/{site}/summary`, is reported as not available.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

import aio_pika
import httpx
from aio_pika.abc import AbstractExchange
from livechat_shared.contracts import (
    Channel,
    ChatEnded,
    ChatHeld,
    ChatOffered,
    ChatResumed,
    ChatStarted,
    Event,
    OperatorPresenceChanged,
    Presence,
    VisitorQueued,
)
from livechat_shared.contracts.envelope import utc_now

from bench.pacing import open_loop
from bench.rabbit import amqp_message, encode, livechat_exchanges, publish_all
from bench.stats import (
    Buckets,
    bucket_count,
    bucket_delta,
    bucket_quantile,
    histogram_buckets,
)

LAG_METRIC = "livechat_summary_projection_lag_seconds"
SUMMARY_ROUTE = re.compile(r"^/v1/sites/\{[^}]+\}/summary$")
SITES = 4
OPERATORS_PER_SITE = 20


def _conversation(site: str, n: int) -> list[Callable[[], Event]]:
    """The events of one chat, built when published so that occurred_at is the send time."""
    visitor, operator = f"v-{n}", f"op-{n % OPERATORS_PER_SITE}"
    session = uuid.uuid4()
    ids: dict[str, Any] = {"site_id": site, "visitor_id": visitor}
    chat = {**ids, "session_id": session, "operator_id": operator}

    return [
        lambda: VisitorQueued(**ids, channel=Channel.CHAT, waiting_since=utc_now()),
        lambda: ChatOffered(
            **ids,
            offer_id=session,
            operator_id=operator,
            channel=Channel.CHAT,
            waiting_since=utc_now(),
            expires_at=utc_now(),
        ),
        lambda: ChatStarted(**chat, channel=Channel.CHAT, waited_seconds=0.5),
        lambda: ChatHeld(**chat),
        lambda: ChatResumed(**chat),
        lambda: ChatEnded(**chat, channel=Channel.CHAT, ended_by="operator"),
    ]


def _stream(count: int) -> list[Callable[[], Event]]:
    tag = uuid.uuid4().hex[:6]
    events: list[Callable[[], Event]] = []
    n = 0
    while len(events) < count:
        events += _conversation(f"bench-summary-{tag}-{n % SITES}", n)
        n += 1
    return events[:count]


async def _route_exists(http: httpx.AsyncClient) -> bool:
    response = await http.get("/openapi.json")
    return response.status_code == 200 and any(
        SUMMARY_ROUTE.match(path) for path in response.json().get("paths", {})
    )


async def _lag_buckets(http: httpx.AsyncClient) -> Buckets | None:
    response = await http.get("/metrics")
    response.raise_for_status()
    return histogram_buckets(response.text, LAG_METRIC)


async def _publish_paced(url: str, makers: list[Callable[[], Event]], rate: float) -> float:
    """Publish at `rate` (confirms on, never waiting for one before the next send)."""
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchanges: dict[str, AbstractExchange] = await livechat_exchanges(channel)
        sends: set[asyncio.Task[Any]] = set()

        def launch(i: int, _: float) -> None:
            wire = encode(makers[i]())
            message = amqp_message(wire.body)
            task = asyncio.create_task(exchanges[wire.exchange].publish(message, wire.key))
            sends.add(task)
            task.add_done_callback(sends.discard)

        started = time.perf_counter()
        await open_loop(len(makers), rate, launch)
        elapsed = time.perf_counter() - started
        await asyncio.gather(*sends)
        return elapsed


async def measure(
    projector_url: str, amqp_url: str, rate: float, seconds: float, wait: float
) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=projector_url, timeout=10.0) as http:
        route = await _route_exists(http)
        # Operators online first (untimed), so the conversations have someone to happen to.
        setup = [
            OperatorPresenceChanged(
                site_id=f"bench-summary-setup-{s}",
                operator_id=f"op-{o}",
                presence=Presence.ONLINE,
            )
            for s in range(SITES)
            for o in range(OPERATORS_PER_SITE)
        ]
        connection = await aio_pika.connect(amqp_url)
        async with connection:
            channel = await connection.channel(publisher_confirms=True)
            await publish_all(channel, (encode(e) for e in setup))
        await asyncio.sleep(0.5)
        before = await _lag_buckets(http)
        count = max(1, int(rate * seconds))
        send_seconds = await _publish_paced(amqp_url, _stream(count), rate)
        deadline = time.monotonic() + wait
        observed: Buckets = {}
        while True:
            after = await _lag_buckets(http)
            if after is None:
                break
            observed = bucket_delta(after, before)
            if bucket_count(observed) >= count or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.25)
    if after is None or not route:
        missing = [
            f"no {LAG_METRIC} histogram on /metrics" if after is None else "",
            "no GET /v1/sites/{site_id}/summary route" if not route else "",
        ]
        return {"available": False, "reason": "; ".join(m for m in missing if m)}
    applied = int(bucket_count(observed))
    p99 = bucket_quantile(observed, 0.99)
    p50 = bucket_quantile(observed, 0.50)
    return {
        "available": p99 is not None,
        "reason": None if p99 is not None else "the projector applied none of the events",
        "p50_ms": None if p50 is None else round(p50 * 1000, 3),
        "p99_ms": None if p99 is None else round(p99 * 1000, 3),
        "events": count,
        "events_applied": applied,
        "rate_per_s": rate,
        "send_seconds": round(send_seconds, 3),
        "all_applied": applied >= count,
        "method": "histogram buckets (linear within a bucket)",
    }
