"""The bus publishes on a confirmed channel of its own: what it sends, and what it counts."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from uuid import uuid4

import aio_pika
import pytest
from livechat_shared.contracts import ExpireOffer, VisitorLeftQueue, parse_message
from livechat_shared.contracts.partitions import PARTITION_HEADER, PARTITIONS_HEADER, partition_of
from livechat_shared.contracts.services import QUEUE_MANAGER
from livechat_shared.contracts.topology import (
    COMMANDS_EXCHANGE,
    DELAYED_SITE,
    EVENTS_EXCHANGE,
    ServiceQueues,
    binding_key,
)
from livechat_shared.runtime.broker import Bus, build_broker
from livechat_shared.runtime.metrics import ServiceMetrics

from tests.support.broker import AMQP_URL, Tap
from tests.support.consuming import throwaway

pytestmark = pytest.mark.integration


def published(metrics: ServiceMetrics, service: str, outcome: str) -> float:
    value = metrics.registry.get_sample_value(
        "livechat_published_messages_total", {"service": service, "outcome": outcome}
    )
    return value or 0.0


@contextlib.asynccontextmanager
async def connected_bus(
    queues: ServiceQueues, *, declare: bool = True, partitions: int = 1
) -> AsyncIterator[tuple[Bus, ServiceMetrics]]:
    """A service's bus on its own connection (and its metrics), the queues declared; a made-up
    service's queues are deleted after (else they would keep a copy of every later test's
    messages, unconsumed, for the rest of the run)."""
    metrics = ServiceMetrics(queues.service)
    broker = build_broker(AMQP_URL, 8, metrics.registry, queues.service)
    await broker.connect()
    try:
        bus = Bus(broker, queues, metrics=metrics, partitions=partitions)
        if declare:
            await bus.declare()
        yield bus, metrics
    finally:
        await broker.stop()
        if declare and queues.service.startswith("throwaway-"):
            connection = await aio_pika.connect(AMQP_URL)
            async with connection:
                channel = await connection.channel()
                for name in (*queues.input_queues(partitions), queues.dead_letter_queue):
                    await channel.queue_delete(name)


async def test_a_published_event_arrives_whole_with_its_properties_and_is_counted(
    site_id: str,
) -> None:
    queues = throwaway()
    async with connected_bus(queues) as (bus, metrics):
        event = VisitorLeftQueue(site_id=site_id, visitor_id="v1")
        async with Tap(site_id) as tap:
            await bus.publish(event)
            # an already-serialized body goes out as it is
            second = VisitorLeftQueue(site_id=site_id, visitor_id="v2")
            await bus.publish(second, second.model_dump_json().encode())
            [first, again] = await tap.wait_for(VisitorLeftQueue, count=2)
        assert first == event and again == second
        assert published(metrics, queues.service, "confirmed") == 2


async def test_a_timer_reaches_its_queue_after_its_delay(site_id: str) -> None:
    async with connected_bus(QUEUE_MANAGER) as (bus, metrics):
        timer = ExpireOffer(site_id=site_id, offer_id=uuid4())
        connection = await aio_pika.connect(AMQP_URL)
        async with connection:
            channel = await connection.channel()
            fired = await channel.declare_queue(exclusive=True, auto_delete=True)
            commands = await channel.get_exchange(COMMANDS_EXCHANGE)
            await fired.bind(commands, routing_key=binding_key(ExpireOffer, DELAYED_SITE))
            await bus.publish_delayed(timer, 0.2)
            async with asyncio.timeout(10), fired.iterator(no_ack=True) as deliveries:
                async for delivery in deliveries:
                    if str(timer.message_id) in delivery.body.decode():
                        break
        assert parse_message(delivery.body) == timer
        assert published(metrics, QUEUE_MANAGER.service, "confirmed") == 1


async def test_with_partitions_every_message_and_timer_carries_its_sites_partition(
    site_id: str,
) -> None:
    # (not declared: a partitioned throw-away service would only route its own input)
    async with connected_bus(throwaway(), declare=False, partitions=6) as (bus, _):
        event = VisitorLeftQueue(site_id=site_id, visitor_id="v1")
        timer = ExpireOffer(site_id=site_id, offer_id=uuid4())
        connection = await aio_pika.connect(AMQP_URL)
        async with connection:
            channel = await connection.channel()
            seen = await channel.declare_queue(exclusive=True, auto_delete=True)
            events = await channel.get_exchange(EVENTS_EXCHANGE)
            commands = await channel.get_exchange(COMMANDS_EXCHANGE)
            await seen.bind(events, routing_key=f"event.VisitorLeftQueue.{site_id}")
            await seen.bind(commands, routing_key=binding_key(ExpireOffer, DELAYED_SITE))
            await bus.publish(event)
            await bus.publish_delayed(timer, 0.2)  # dead-letters back with its headers
            headers = {}
            async with asyncio.timeout(10), seen.iterator(no_ack=True) as deliveries:
                async for delivery in deliveries:
                    message = parse_message(delivery.body)
                    if message.message_id in (event.message_id, timer.message_id):
                        headers[message.message_id] = delivery.headers
                    if len(headers) == 2:
                        break
        expected = str(partition_of(site_id, 6))
        assert headers[event.message_id][PARTITION_HEADER] == expected
        assert headers[timer.message_id][PARTITION_HEADER] == expected
        assert headers[event.message_id][PARTITIONS_HEADER] == "6"
        assert headers[timer.message_id][PARTITIONS_HEADER] == "6"
