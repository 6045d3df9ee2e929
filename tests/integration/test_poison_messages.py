"""Poison never loops: whatever is wrong with a message, it ends in the dead-letter queue.

Before: an overflowing timestamp raised OverflowError out of the reader and a header with bytes
that are not UTF-8 broke `dead_letter`, so both were requeued for ever; on the gateway's own
queue (no dead-letter exchange, no delivery limit) a failing message looped at 85% CPU.
"""

from __future__ import annotations

import aio_pika
import pytest
from livechat_shared.contracts import Message, VisitorLeftQueue
from livechat_shared.contracts.services import QUEUE_MANAGER, VISITOR_GATEWAY
from livechat_shared.contracts.topology import (
    COMMANDS_EXCHANGE,
    DEAD_LETTER_EXCHANGE,
    DEAD_LETTER_REASON_HEADER,
    EVENTS_EXCHANGE,
)
from livechat_shared.runtime.broker import input_queue

from tests.support.apps import queue_manager_app, running
from tests.support.broker import AMQP_URL
from tests.support.consuming import (
    QUEUE_KINDS,
    consuming,
    next_dead_letter,
    publish_quickly,
    throwaway,
    wait_until,
)

pytestmark = pytest.mark.integration


class RawText(str):
    """A header value that goes on the wire as a long string of bytes that are not UTF-8."""

    __slots__ = ()

    def encode(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        return b"\xff\xfe not utf-8"


async def publish_raw(body: bytes, site_id: str, headers: dict[str, object] | None = None) -> None:
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.get_exchange(EVENTS_EXCHANGE)
        await exchange.publish(
            aio_pika.Message(body, headers=headers or {}),  # type: ignore[arg-type]
            routing_key=f"event.VisitorLeftQueue.{site_id}",
        )


def overflowing(site_id: str) -> bytes:
    # Valid ISO 8601, but an hour before year 1 once converted to UTC.
    return (
        b'{"type": "VisitorLeftQueue", "site_id": "%s", "visitor_id": "v1",'
        b' "occurred_at": "0001-01-01T00:30:00+01:00"}' % site_id.encode()
    )


@QUEUE_KINDS
@pytest.mark.parametrize(
    "poison, reason",
    [
        ("overflow", "OverflowError"),
        ("not-utf-8", "unicode"),
        ("bad-header", "json"),
    ],
)
async def test_an_unreadable_message_is_dead_lettered_with_its_reason_and_consuming_goes_on(
    site_id: str, per_instance: bool, poison: str, reason: str
) -> None:
    handled: list[Message] = []

    async def handle(message: Message) -> None:
        handled.append(message)

    queues = throwaway(per_instance=per_instance)
    async with consuming(queues, handle):
        if poison == "overflow":
            await publish_raw(overflowing(site_id), site_id)
        elif poison == "not-utf-8":
            await publish_raw(b'{"type": "VisitorLeftQueue", "site_id": "\xff\xfe"}', site_id)
        else:
            await publish_raw(b"{not json", site_id, headers={"x-note": RawText("x")})
        dead = await next_dead_letter(queues)
        assert reason.lower() in str(dead.headers[DEAD_LETTER_REASON_HEADER]).lower()
        if poison == "bad-header":
            assert "\\xff\\xfe" in str(dead.headers["x-note"])  # kept, escaped
        await publish_quickly([VisitorLeftQueue(site_id=site_id, visitor_id="good")])
        await wait_until(lambda: len(handled) == 1)
    assert handled[0].visitor_id == "good"  # type: ignore[attr-defined]


async def test_a_message_whose_handler_fails_on_a_replicas_own_queue_is_dead_lettered_once(
    site_id: str,
) -> None:
    calls: list[str] = []

    async def handle(message: Message) -> None:
        assert isinstance(message, VisitorLeftQueue)
        calls.append(message.visitor_id)
        if message.visitor_id == "poison":
            raise RuntimeError("this one never works")

    queues = throwaway(per_instance=True)
    async with consuming(queues, handle):
        await publish_quickly([VisitorLeftQueue(site_id=site_id, visitor_id="poison")])
        dead = await next_dead_letter(queues)
        assert dead.headers["x-first-death-reason"] == "rejected"
        assert calls == ["poison"]  # once: rejected, not requeued for ever
        await publish_quickly([VisitorLeftQueue(site_id=site_id, visitor_id="good")])
        await wait_until(lambda: calls[-1] == "good")
    assert calls == ["poison", "good"]


def test_the_gateways_own_queue_dead_letters_into_the_gateways_dead_letter_queue() -> None:
    arguments = input_queue(VISITOR_GATEWAY, "replica-1").arguments or {}
    assert arguments["x-dead-letter-exchange"] == DEAD_LETTER_EXCHANGE
    assert arguments["x-dead-letter-routing-key"] == VISITOR_GATEWAY.service


async def test_the_queue_manager_dead_letters_an_overflowing_timestamp_with_odd_headers(
    site_id: str,
) -> None:
    """Through the real app: the reason header is there (before: OverflowError, requeued)."""
    async with running(queue_manager_app()):
        connection = await aio_pika.connect(AMQP_URL)
        async with connection:
            channel = await connection.channel()
            exchange = await channel.get_exchange(COMMANDS_EXCHANGE)
            body = overflowing(site_id).replace(b"VisitorLeftQueue", b"AcceptOffer")
            await exchange.publish(
                aio_pika.Message(body, headers={"x-note": RawText("x")}),
                routing_key=f"command.AcceptOffer.{site_id}",
            )
        dead = await next_dead_letter(QUEUE_MANAGER, site_id, timeout=20)
    assert "overflow" in str(dead.headers[DEAD_LETTER_REASON_HEADER]).lower()
