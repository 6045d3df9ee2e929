"""Topology on the real broker: quorum input queues, single active consumer, dead letters with reasons."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import aio_pika
import pytest
from aiormq.exceptions import ChannelPreconditionFailed
from livechat_shared.contracts import (
    Channel,
    ChatOffered,
    Presence,
    SetOperatorPresence,
    VisitorBrowsing,
    VisitorWaiting,
)
from livechat_shared.contracts.partitions import PARTITION_HEADER, partition_of
from livechat_shared.contracts.services import ALL_SERVICES, QUEUE_MANAGER
from livechat_shared.contracts.topology import (
    COMMANDS_EXCHANGE,
    DEAD_LETTER_EXCHANGE,
    DEAD_LETTER_REASON_HEADER,
    DELIVERY_LIMIT,
    EVENTS_EXCHANGE,
    ServiceQueues,
    binding_key,
    routing_key,
)
from livechat_shared.runtime.broker import Bus, build_broker
from livechat_shared.runtime.metrics import ServiceMetrics
from queue_manager.adapters.memory_journal import MemoryJournal
from queue_manager.ports import JournalEntry

from tests.support.apps import queue_manager_app, running
from tests.support.broker import AMQP_URL, Tap, publish

pytestmark = pytest.mark.integration


def expected_arguments(single_active_consumer: bool, service: str) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "x-queue-type": "quorum",
        "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
        "x-dead-letter-routing-key": service,
        "x-delivery-limit": DELIVERY_LIMIT,
    }
    if single_active_consumer:
        arguments["x-single-active-consumer"] = True
    return arguments


async def test_the_queue_managers_input_is_a_quorum_queue_with_one_active_consumer() -> None:
    async with running(queue_manager_app()):
        connection = await aio_pika.connect(AMQP_URL)
        async with connection:
            channel = await connection.channel()
            # Redeclaring with the same arguments succeeds only if they match exactly.
            await channel.declare_queue(
                QUEUE_MANAGER.input_queue,
                durable=True,
                arguments=expected_arguments(True, QUEUE_MANAGER.service),
            )
            with pytest.raises(ChannelPreconditionFailed):
                await channel.declare_queue(
                    QUEUE_MANAGER.input_queue,
                    durable=True,
                    arguments=expected_arguments(False, QUEUE_MANAGER.service),
                )


def test_every_service_has_its_own_queues() -> None:
    names = [q.input_queue for q in ALL_SERVICES] + [q.dead_letter_queue for q in ALL_SERVICES]
    assert len(set(names)) == len(names) == 10
    serialized = [q.service for q in ALL_SERVICES if q.single_active_consumer]
    assert serialized == [
        "queue-manager",
        "session-service",
        "offline-messages",
        "summary-projector",
    ]
    assert [q.service for q in ALL_SERVICES if q.per_instance] == ["visitor-gateway"]


async def dead_letters_matching(
    marker: str, timeout: float = 10.0
) -> aio_pika.abc.AbstractIncomingMessage:
    """Read the queue manager's dead-letter queue until the message carrying `marker` shows up."""
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        queue = await channel.get_queue(QUEUE_MANAGER.dead_letter_queue)
        async with asyncio.timeout(timeout):
            while True:
                message = await queue.get(no_ack=False, fail=False)
                if message is None:
                    await asyncio.sleep(0.1)
                    continue
                if marker.encode() in message.body:
                    await message.ack()
                    return message
                await message.nack(requeue=True)
                await asyncio.sleep(0.01)


async def publish_raw(body: bytes, routing_key: str) -> None:
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(COMMANDS_EXCHANGE)
        await exchange.publish(aio_pika.Message(body), routing_key=routing_key)


@pytest.mark.parametrize(
    "body, reason",
    [
        (b"{not json MARKER", "json"),
        (b'{"type": "AcceptOffer", "site_id": "x", "MARKER": 1}', "extra"),
        (b'{"type": "ChatOffered", "MARKER": 1}', "ChatOffered"),
    ],
    ids=["garbage", "unknown-field", "not-for-this-service"],
)
async def test_a_bad_message_is_dead_lettered_with_its_reason_and_consuming_goes_on(
    site_id: str, body: bytes, reason: str
) -> None:
    marker = f"m{uuid.uuid4().hex}"
    async with Tap(site_id) as tap, running(queue_manager_app()):
        await publish_raw(
            body.replace(b"MARKER", marker.encode()), f"command.AcceptOffer.{site_id}"
        )
        dead = await dead_letters_matching(marker)
        assert reason.lower() in str(dead.headers[DEAD_LETTER_REASON_HEADER]).lower()
        # the consumer did not stop: the next good message is routed
        await publish(
            SetOperatorPresence(site_id=site_id, operator_id="ann", presence=Presence.ONLINE)
        )
        await publish(VisitorWaiting(site_id=site_id, visitor_id="v0"))
        await tap.wait_for(ChatOffered)


class PoisonedJournal(MemoryJournal):
    """A store that always fails for one visitor: its message can never be handled."""

    async def append_many(self, entries: Sequence[JournalEntry]) -> None:
        if any("poison" in json.dumps(entry.message) for entry in entries):
            raise RuntimeError("this one never stores")
        await super().append_many(entries)


async def test_a_message_that_keeps_failing_is_dead_lettered_after_the_delivery_limit(
    site_id: str,
) -> None:
    visitor = f"poison-{uuid.uuid4().hex[:8]}"
    async with Tap(site_id) as tap, running(queue_manager_app(journal=PoisonedJournal())):
        await publish(
            SetOperatorPresence(site_id=site_id, operator_id="ann", presence=Presence.ONLINE)
        )
        await publish(VisitorWaiting(site_id=site_id, visitor_id=visitor))
        dead = await dead_letters_matching(visitor, timeout=20)
        assert dead.headers.get("x-death") or dead.headers.get("x-first-death-reason")
        await publish(VisitorWaiting(site_id=site_id, visitor_id="v-good"))
        [offer] = await tap.wait_for(ChatOffered)
        assert offer.visitor_id == "v-good"


async def test_a_start_removes_the_bindings_of_what_the_service_no_longer_consumes(
    site_id: str,
) -> None:
    """An upgrade narrows what a service consumes (the projector once bound every event): its
    durable queue must stop receiving the rest, not just be declared with fewer bindings."""
    queues = ServiceQueues(service=f"test-{uuid.uuid4().hex[:8]}", consumes=(ChatOffered,))
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        events = await channel.declare_exchange(
            EVENTS_EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True
        )
        # what an earlier release left: the same queue, bound to a heartbeat it no longer uses
        old = await channel.declare_queue(
            queues.input_queue, durable=True, arguments=expected_arguments(False, queues.service)
        )
        await old.bind(events, routing_key=binding_key(VisitorBrowsing))
        metrics = ServiceMetrics(queues.service)
        broker = build_broker(AMQP_URL, 8, metrics.registry, queues.service)
        await broker.connect()
        try:
            await Bus(broker, queues).declare()
        finally:
            await broker.stop()
        beat = VisitorBrowsing(site_id=site_id, visitor_id="v-ada", page="https://a.example/")
        offer = ChatOffered(
            site_id=site_id,
            offer_id=uuid.uuid4(),
            visitor_id="v-ada",
            operator_id="ann",
            channel=Channel.CHAT,
            waiting_since=datetime.now(UTC),
            expires_at=datetime.now(UTC) + timedelta(seconds=30),
        )
        for message in (beat, offer):
            await events.publish(
                aio_pika.Message(message.model_dump_json().encode()), routing_key(message)
            )
        try:
            queue = await channel.declare_queue(queues.input_queue, passive=True)
            # only the offer arrived
            received = await queue.get(timeout=5)
            assert json.loads(received.body)["type"] == "ChatOffered"
            await received.ack()
            assert await queue.get(fail=False) is None
        finally:
            await channel.queue_delete(queues.input_queue)
            await channel.queue_delete(queues.dead_letter_queue)


@pytest.mark.parametrize("partitions", [1, 4], ids=["one-queue", "partitioned"])
async def test_a_start_unbinds_the_types_a_service_no_longer_consumes(
    site_id: str, partitions: int
) -> None:
    # an earlier release bound ChatOffered too: to the input queue, or (partitioned) to the
    # service's headers exchange
    queues = ServiceQueues(service=f"narrowed-{uuid.uuid4().hex[:8]}", consumes=(VisitorWaiting,))
    input_name = queues.partition_queue(partition_of(site_id, partitions), partitions)
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        metrics = ServiceMetrics(queues.service)
        broker = build_broker(AMQP_URL, 8, metrics.registry, queues.service)
        await broker.connect()
        try:
            bus = Bus(broker, queues, metrics=metrics, partitions=partitions)
            await bus.declare()
            events = await channel.get_exchange(EVENTS_EXCHANGE)
            if partitions == 1:
                stale = await channel.get_queue(input_name)
                await stale.bind(events, routing_key=binding_key(ChatOffered))
            else:
                headers = await channel.get_exchange(queues.partitions_exchange)
                await headers.bind(events, routing_key=binding_key(ChatOffered))
            await bus.declare()  # the next start
        finally:
            await broker.stop()
        try:
            offered = ChatOffered(
                site_id=site_id,
                visitor_id="v1",
                operator_id="ann",
                offer_id=uuid.uuid4(),
                channel=Channel.CHAT,
                waiting_since=datetime.now(UTC),
                expires_at=datetime.now(UTC) + timedelta(seconds=30),
            )
            waiting = VisitorWaiting(site_id=site_id, visitor_id="v1")
            # one channel keeps the order: were ChatOffered still bound, it would come first
            for message in (offered, waiting):
                await events.publish(
                    aio_pika.Message(
                        message.model_dump_json().encode(),
                        headers={PARTITION_HEADER: str(partition_of(site_id, partitions))},
                    ),
                    routing_key=routing_key(message),
                )
            queue = await channel.get_queue(input_name)
            async with asyncio.timeout(10), queue.iterator(no_ack=True) as deliveries:
                first = await anext(aiter(deliveries))
            assert json.loads(first.body)["type"] == "VisitorWaiting"
        finally:
            for name in queues.input_queues(partitions):
                await channel.queue_delete(name)
            await channel.queue_delete(queues.dead_letter_queue)
            if partitions > 1:
                await channel.exchange_delete(queues.partitions_exchange)
