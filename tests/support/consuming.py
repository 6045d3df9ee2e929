"""A throw-away service's bus and input consumer on a real broker, wired as the apps wire theirs."""

from __future__ import annotations

import asyncio
import contextlib
import time
import urllib.parse
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import aio_pika
import pytest
from aio_pika.abc import AbstractIncomingMessage
from livechat_shared.contracts import Message, VisitorLeftQueue
from livechat_shared.contracts.partitions import PARTITION_HEADER, partition_of
from livechat_shared.contracts.topology import ServiceQueues, exchange_for, routing_key
from livechat_shared.runtime.broker import Bus, build_broker
from livechat_shared.runtime.consumer import InputConsumer
from livechat_shared.runtime.handling import BatchHandler, Handler, settler
from livechat_shared.runtime.metrics import ServiceMetrics

from tests.support.broker import AMQP_URL

QUEUE_KINDS = pytest.mark.parametrize("per_instance", [False, True], ids=["quorum", "per-replica"])
"""Each consuming test on both kinds of input queue: a quorum queue, and a replica's own."""


def throwaway(*, single_active_consumer: bool = False, per_instance: bool = False) -> ServiceQueues:
    """Queues of a service made up for one test: it consumes VisitorLeftQueue."""
    return ServiceQueues(
        service=f"throwaway-{uuid.uuid4().hex[:8]}",
        consumes=(VisitorLeftQueue,),
        single_active_consumer=single_active_consumer,
        per_instance=per_instance,
    )


@asynccontextmanager
async def consuming(
    queues: ServiceQueues,
    handle: Handler,
    url: str = AMQP_URL,
    prefetch: int = 64,
    metrics: ServiceMetrics | None = None,
    delete_queues: bool = True,
    handle_batch: BatchHandler | None = None,
    batch_max: int = 1,
    partitions: int = 1,
    owned: tuple[int, ...] = (0,),
    standby_delay_seconds: float = 0.0,
    rebalance_seconds: float = 0.0,
    released: Callable[[int], Awaitable[None]] | None = None,
) -> AsyncIterator[InputConsumer]:
    metrics = metrics or ServiceMetrics(queues.service)
    broker = build_broker(url, prefetch, metrics.registry, queues.service)
    await broker.connect()
    bus = Bus(broker, queues, partitions=partitions)
    if released is not None:
        bus.on_partition_released(released)
    await bus.declare()
    consumer = InputConsumer(
        bus,
        settler(bus, metrics, handle, handle_batch),
        amqp_url=url,
        prefetch=prefetch,
        batch_max=batch_max,
        retry_seconds=0.3,
        active=metrics.consumer_active.labels(service=queues.service),
        owned=owned,
        standby_delay_seconds=standby_delay_seconds,
        rebalance_seconds=rebalance_seconds,
    )
    await consumer.start()
    try:
        yield consumer
    finally:
        await consumer.stop()
        await broker.stop()
        if delete_queues:  # (not while another replica still consumes them)
            with contextlib.suppress(Exception):
                connection = await aio_pika.connect(url)
                async with connection:
                    channel = await connection.channel()
                    for name in queues.input_queues(partitions):
                        await channel.queue_delete(name)
                    await channel.queue_delete(queues.dead_letter_queue)
                    if partitions > 1:
                        await channel.exchange_delete(queues.partitions_exchange)


async def publish_quickly(
    messages: list[Message], url: str = AMQP_URL, partitions: int = 1
) -> None:
    """Publish back to back on one channel, so they queue up faster than they are handled."""
    connection = await aio_pika.connect(url)
    async with connection:
        # Without confirms each publish returns once written: in order, and without waiting.
        channel = await connection.channel(publisher_confirms=False)
        for message in messages:
            exchange = await channel.get_exchange(exchange_for(type(message)))
            await exchange.publish(
                aio_pika.Message(
                    message.model_dump_json().encode(),
                    headers={PARTITION_HEADER: str(partition_of(message.site_id, partitions))},
                ),
                routing_key=routing_key(message),
            )


async def wait_until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    """Poll, with a bound, until the condition holds."""
    async with asyncio.timeout(timeout):
        while True:
            if condition():
                return
            await asyncio.sleep(0.02)


async def wait_for_all(
    seen: Callable[[], set[Any]],
    expected: set[Any],
    stalled_after: float = 20.0,
    queues: ServiceQueues | None = None,
) -> None:
    """Wait until everything expected was seen, however slow the machine: fail only when nothing
    new has been seen for `stalled_after` seconds (what is missing then is lost, not late), and
    say what is missing (and, given the queues, what the broker holds in them)."""
    count, last_progress = -1, time.monotonic()
    while not expected <= (now := seen()):
        if len(now) != count:
            count, last_progress = len(now), time.monotonic()
        elif time.monotonic() - last_progress > stalled_after:
            missing = sorted(expected - now, key=repr)
            held = f"; the broker holds: {await broker_view(queues)}" if queues else ""
            raise AssertionError(
                f"{len(missing)} of {len(expected)} not seen, none new for {stalled_after} s: "
                f"{missing[:10]}{held}"
            )
        await asyncio.sleep(0.05)


async def broker_view(queues: ServiceQueues, url: str = AMQP_URL) -> str:
    """The broker's own view of a service's queues (ready, unacked, consumers) and of their
    consumers (which one is active), for a failure message."""
    vhost = urllib.parse.unquote(url.rsplit("/", 1)[-1]) or "/"
    found: list[str] = []
    for what in (
        ("list_queues", "name", "messages_ready", "messages_unacknowledged", "consumers"),
        ("list_consumers", "queue_name", "consumer_tag", "active", "activity_status"),
    ):
        try:
            process = await asyncio.create_subprocess_exec(
                "rabbitmqctl", "-q", "--no-table-headers", what[0], "-p", vhost, *what[1:],
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip
            out, _ = await asyncio.wait_for(process.communicate(), 30)
        except (OSError, TimeoutError) as error:
            return f"(no rabbitmqctl view: {error!r})"
        lines = out.decode(errors="replace").splitlines()
        found += [" ".join(line.split()) for line in lines if line.startswith(queues.service)]
    return " | ".join(found)


async def next_dead_letter(
    queues: ServiceQueues, marker: str = "", url: str = AMQP_URL, timeout: float = 15.0
) -> AbstractIncomingMessage:
    """The next message in the service's dead-letter queue whose body holds `marker` (taken
    off it, with any others before it)."""
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.get_queue(queues.dead_letter_queue)
        async with asyncio.timeout(timeout):
            while True:
                message = await queue.get(no_ack=True, fail=False)
                if message is None:
                    await asyncio.sleep(0.05)
                elif marker.encode() in message.body:
                    return message
