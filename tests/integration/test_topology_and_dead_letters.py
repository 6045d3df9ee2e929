"""Topology on the real broker: quorum input queues, single active consumer, dead letters with reasons."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Sequence
from typing import Any

import aio_pika
import pytest
from aiormq.exceptions import ChannelPreconditionFailed
from livechat_shared.contracts import ChatOffered, Presence, SetOperatorPresence, VisitorWaiting
from livechat_shared.contracts.services import ALL_SERVICES, QUEUE_MANAGER
from livechat_shared.contracts.topology import (
    COMMANDS_EXCHANGE,
    DEAD_LETTER_EXCHANGE,
    DEAD_LETTER_REASON_HEADER,
    DELIVERY_LIMIT,
)
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
