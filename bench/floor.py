"""The floor: raw aio-pika on the same broker, with the services' message settings.

One hop: publish into a quorum queue (as the queue manager's input is) and consume it.
Two hops: a relay consumes that queue, republishes each message into a classic non-durable
queue (as the gateway's per-replica queue is), awaits the publisher confirm, then acks; a sink
consumes the second queue. Messages are persistent, publishers use confirms, consumers
ack each message, prefetch 64: what the services do, minus their own work.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable
from typing import Any

import aio_pika
from aio_pika.abc import (
    AbstractChannel,
    AbstractConnection,
    AbstractIncomingMessage,
    AbstractQueue,
)
from livechat_shared.contracts import VisitorWaiting

from bench.config import Sizes
from bench.pacing import open_loop
from bench.rabbit import amqp_message
from bench.stats import summary_ms

EXCHANGE = "bench.floor"
PREFETCH = 64
CONFIRM_WINDOW = 256


def _body() -> bytes:
    """A real VisitorWaiting, so the floor moves messages of the services' size."""
    waiting = VisitorWaiting(site_id="bench-floor", visitor_id=f"v-{uuid.uuid4().hex}")
    return waiting.model_dump_json().encode()


class _Rig:
    """Connections, the exchange and two queues, named per run; everything deleted afterwards."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.tag = uuid.uuid4().hex[:8]
        self.connections: list[AbstractConnection] = []
        self.queues: list[AbstractQueue] = []

    async def channel(self, confirms: bool = False) -> AbstractChannel:
        connection = await aio_pika.connect(self.url)
        self.connections.append(connection)
        channel = await connection.channel(publisher_confirms=confirms)
        await channel.set_qos(prefetch_count=PREFETCH)
        return channel

    async def queue(self, channel: AbstractChannel, hop: str, quorum: bool) -> AbstractQueue:
        exchange = await channel.declare_exchange(EXCHANGE, aio_pika.ExchangeType.TOPIC)
        if quorum:
            queue = await channel.declare_queue(
                f"bench.floor.{self.tag}.{hop}",
                durable=True,
                arguments={"x-queue-type": "quorum"},
            )
        else:
            queue = await channel.declare_queue(
                f"bench.floor.{self.tag}.{hop}", durable=False, auto_delete=True
            )
        await queue.bind(exchange, routing_key=f"{self.tag}.{hop}")
        self.queues.append(queue)
        return queue

    async def close(self) -> None:
        for queue in self.queues:
            # An auto-delete queue may be gone with its consumer already.
            with contextlib.suppress(Exception):
                await queue.delete(if_unused=False, if_empty=False)
        for connection in self.connections:
            await connection.close()


async def _sink(
    queue: AbstractQueue, record: Callable[[int], None], total: int, done: asyncio.Event
) -> None:
    count = 0
    async with queue.iterator() as messages:
        async for message in messages:
            record(int(message.message_id or 0))
            await message.ack()
            count += 1
            if count >= total:
                done.set()
                return


async def _relay(queue: AbstractQueue, channel: AbstractChannel, key: str, total: int) -> None:
    """Each message is republished (awaiting its confirm) and then acked, in its own task: the
    broker's two-hop latency, not the queueing of a relay that handles one message at a time."""
    exchange = await channel.get_exchange(EXCHANGE)
    tasks: set[asyncio.Task[None]] = set()

    async def forward(message: AbstractIncomingMessage) -> None:
        await exchange.publish(amqp_message(message.body, message.message_id), routing_key=key)
        await message.ack()

    count = 0
    async with queue.iterator() as messages:
        async for message in messages:
            task = asyncio.create_task(forward(message))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            count += 1
            if count >= total:
                break
    await asyncio.gather(*tasks)


async def latency(url: str, hops: int, count: int, rate: float, warm: int = 100) -> dict[str, Any]:
    """Open-loop publishes at `rate`; latency from the scheduled send to the last hop's arrival.

    The first `warm` messages go through (and are awaited) before the timed ones: a quorum
    queue that was just declared is slow for its first moments.
    """
    rig = _Rig(url)
    total = warm + count
    try:
        publisher = await rig.channel(confirms=True)
        first_consumer = await rig.channel(confirms=hops > 1)
        first = await rig.queue(first_consumer, "hop1", quorum=True)
        arrived = [0.0] * total
        warmed = asyncio.Event()
        done = asyncio.Event()

        def record(i: int) -> None:
            arrived[i] = time.perf_counter()
            if i < warm and all(arrived[:warm]):
                warmed.set()

        if hops == 1:
            consumers = [asyncio.create_task(_sink(first, record, total, done))]
        else:
            sink_channel = await rig.channel()
            second = await rig.queue(sink_channel, "hop2", quorum=False)
            consumers = [
                asyncio.create_task(_relay(first, first_consumer, f"{rig.tag}.hop2", total)),
                asyncio.create_task(_sink(second, record, total, done)),
            ]
        exchange = await publisher.get_exchange(EXCHANGE)
        body = _body()
        scheduled = [0.0] * total
        sends: set[asyncio.Task[Any]] = set()

        def launcher(offset: int) -> Callable[[int, float], None]:
            def launch(i: int, at: float) -> None:
                scheduled[offset + i] = at
                message = amqp_message(body, str(offset + i))
                publish = exchange.publish(message, routing_key=f"{rig.tag}.hop1")
                task = asyncio.create_task(publish)
                sends.add(task)
                task.add_done_callback(sends.discard)

            return launch

        await open_loop(warm, rate, launcher(0))
        await asyncio.wait_for(warmed.wait(), timeout=30)
        await open_loop(count, rate, launcher(warm))
        await asyncio.wait_for(done.wait(), timeout=60)
        await asyncio.gather(*consumers)
        seconds = [arrived[i] - scheduled[i] for i in range(warm, total)]
        return {**summary_ms(seconds), "messages": count, "rate_per_s": rate}
    finally:
        await rig.close()


async def throughput(url: str, count: int) -> dict[str, Any]:
    """Publish `count` messages with confirms (a window in flight) while one consumer acks each."""
    rig = _Rig(url)
    try:
        publisher = await rig.channel(confirms=True)
        consumer = await rig.channel()
        queue = await rig.queue(consumer, "throughput", quorum=True)
        arrived = [0.0] * count
        done = asyncio.Event()

        def record(i: int) -> None:
            arrived[i] = time.perf_counter()

        sink = asyncio.create_task(_sink(queue, record, count, done))
        exchange = await publisher.get_exchange(EXCHANGE)
        body = _body()
        key = f"{rig.tag}.throughput"
        started = time.perf_counter()
        pending: set[asyncio.Future[Any]] = set()
        for i in range(count):
            if len(pending) >= CONFIRM_WINDOW:
                _, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            pending.add(asyncio.ensure_future(exchange.publish(amqp_message(body, str(i)), key)))
        await asyncio.gather(*pending)
        await asyncio.wait_for(done.wait(), timeout=120)
        await sink
        elapsed = max(arrived) - started
        return {
            "msgs_per_s": round(count / elapsed, 1),
            "messages": count,
            "seconds": round(elapsed, 3),
            "confirm_window": CONFIRM_WINDOW,
        }
    finally:
        await rig.close()


async def measure(url: str, sizes: Sizes) -> dict[str, dict[str, Any]]:
    return {
        "one_hop": await latency(url, 1, sizes.floor_latency_messages, sizes.floor_latency_rate),
        "two_hop": await latency(url, 2, sizes.floor_latency_messages, sizes.floor_latency_rate),
        "throughput": await throughput(url, sizes.floor_throughput_messages),
    }
