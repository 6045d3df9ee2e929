"""Routing throughput: how fast the queue-manager process drains a backlog of decisions.

The backlog is published before the queue manager starts (its queues declared with the
services' own topology code): operators coming online with room for everyone, then
VisitorWaiting events. Each VisitorWaiting is one routing decision — queue the visitor, offer it
to the least-loaded operator, journal, publish — and ends with its ChatOffered on
`livechat.events`, which a tap queue timestamps. The rate is taken over the middle 80% of the
offers, so start-up and the tail do not count.
"""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection
from faststream.rabbit import RabbitBroker
from livechat_shared.contracts import Presence, SetOperatorPresence, VisitorWaiting
from livechat_shared.contracts.services import QUEUE_MANAGER
from livechat_shared.contracts.topology import EVENTS_EXCHANGE, ServiceQueues
from livechat_shared.runtime.broker import Bus

from bench.rabbit import Wire, encode, publish_all


async def declare_queue_manager_topology(
    url: str, *others: ServiceQueues, partitions: int = 1
) -> None:
    """The queue manager's exchanges and input queues (and those of `others`), declared as the
    services declare them (with `partitions`, a queue per partition behind a headers exchange)."""
    broker = RabbitBroker(url)
    await broker.connect()
    try:
        for queues in (QUEUE_MANAGER, *others):
            await Bus(broker, queues, partitions=partitions).declare()
    finally:
        await broker.stop()


def backlog(
    sites: Sequence[str], visitors: int, operators: int, partitions: int = 1
) -> Iterator[Wire]:
    """Each site's operators online, then `visitors` VisitorWaiting per site, the sites taking
    turns (so every partition's queue holds its share all along)."""
    for site in sites:
        for i in range(operators):
            presence = SetOperatorPresence(
                site_id=site, operator_id=f"op-{i}", presence=Presence.ONLINE
            )
            yield encode(presence, partitions)
    for i in range(visitors):
        for site in sites:
            yield encode(VisitorWaiting(site_id=site, visitor_id=f"v-{i}"), partitions)


class Tap:
    """An exclusive queue on `livechat.events` that timestamps one event type of some sites
    (and notes each arrival's site)."""

    def __init__(self, url: str, event_type: str, *sites: str) -> None:
        self.url = url
        self.keys = [f"event.{event_type}.{site}" for site in sites]
        self.arrivals: list[float] = []
        self.sites: list[str] = []
        self.expected = 0
        self.done = asyncio.Event()
        self._connection: AbstractRobustConnection | None = None

    async def open(self, expected: int) -> Tap:
        self.expected = expected
        self._connection = await aio_pika.connect_robust(self.url)
        channel = await self._connection.channel()
        await channel.set_qos(prefetch_count=1000)
        exchange = await channel.declare_exchange(
            EVENTS_EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True
        )
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        for key in self.keys:
            await queue.bind(exchange, routing_key=key)
        await queue.consume(self._on_message, no_ack=True)
        return self

    async def _on_message(self, delivery: AbstractIncomingMessage) -> None:
        self.arrivals.append(time.perf_counter())
        self.sites.append((delivery.routing_key or "").split(".", 2)[-1])
        if len(self.arrivals) >= self.expected:
            self.done.set()

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()


def middle_span(arrivals: list[float]) -> tuple[int, float, float]:
    """(events, first, last) between the 10th and the 90th percentile arrival (the whole
    span when that is too short to tell)."""
    ordered = sorted(arrivals)
    low, high = int(len(ordered) * 0.1), int(len(ordered) * 0.9) - 1
    if high <= low or ordered[high] <= ordered[low]:
        return len(ordered) - 1, ordered[0], ordered[-1]
    return high - low, ordered[low], ordered[high]


def middle_rate(arrivals: list[float]) -> float:
    """Events per second between the 10th and the 90th percentile arrival."""
    events, first, last = middle_span(arrivals)
    return events / (last - first) if last > first else float("nan")


async def publish_backlog(
    url: str, visitors: int, max_chats: int, sites: Sequence[str] = (), partitions: int = 1
) -> tuple[list[str], int]:
    """Declare the topology and publish the backlog, `visitors` per site (one new site unless
    `sites` are given); returns (sites, operators per site)."""
    sites = list(sites) or [f"bench-routing-{uuid.uuid4().hex[:6]}"]
    operators = math.ceil(visitors / max_chats) + 1
    await declare_queue_manager_topology(url, partitions=partitions)
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        await publish_all(channel, backlog(sites, visitors, operators, partitions))
    return sites, operators


def result(
    tap: Tap, visitors: int, operators: int, started: float, timeout: float
) -> dict[str, Any]:
    arrivals = tap.arrivals
    drained = len(arrivals) >= visitors
    return {
        "decisions_per_s": round(middle_rate(arrivals), 1) if len(arrivals) > 10 else None,
        "visitors": visitors,
        "operators": operators,
        "offers_seen": len(arrivals),
        "drained": drained,
        "seconds_to_drain": round(max(arrivals) - started, 3) if drained else None,
        "timeout_s": timeout,
    }
