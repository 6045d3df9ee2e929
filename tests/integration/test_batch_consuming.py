"""Group commit in the consumer: what waits in the inbox is handled as one batch, in order.

The batches are made deterministic by holding the first one until everything is published: the
rest piles up in the inbox (up to the prefetch) and comes as the next batches.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import aio_pika
import pytest
from livechat_shared.contracts import Message, VisitorLeftQueue
from livechat_shared.contracts.topology import DEAD_LETTER_REASON_HEADER, EVENTS_EXCHANGE
from livechat_shared.runtime.metrics import ServiceMetrics

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


def visitors(messages: Sequence[Message]) -> list[str]:
    return [m.visitor_id for m in messages if isinstance(m, VisitorLeftQueue)]


class Recorder:
    """A batch handler and a one-message handler that record, in order, what they were given.

    Everything waits for `release`, so what is published meanwhile queues up in the inbox."""

    def __init__(self, failing: str | None = None) -> None:
        self.calls: list[tuple[str, list[str]]] = []
        self.release = asyncio.Event()
        self.failing = failing

    async def handle_batch(self, messages: Sequence[Message]) -> None:
        await self.release.wait()
        names = visitors(messages)
        self.calls.append(("batch", names))
        if self.failing in names:
            raise RuntimeError("one message of this batch is bad")

    async def handle(self, message: Message) -> None:
        await self.release.wait()
        names = visitors([message])
        self.calls.append(("one", names))
        if self.failing in names:
            raise RuntimeError("this one never works")

    def batches(self) -> list[list[str]]:
        return [names for how, names in self.calls if how == "batch"]

    def one_by_one(self) -> list[str]:
        return [names[0] for how, names in self.calls if how == "one"]

    def handled(self) -> list[str]:
        """Every message whose handling succeeded, in the order it did."""
        return [n for _, names in self.calls if self.failing not in names for n in names]


@QUEUE_KINDS
async def test_batches_keep_the_delivery_order_and_take_what_waits_up_to_batch_max(
    site_id: str, per_instance: bool
) -> None:
    recorder = Recorder()
    sent = [f"v{i:03d}" for i in range(150)]
    metrics = ServiceMetrics("batch-test")
    queues = throwaway(per_instance=per_instance, single_active_consumer=not per_instance)
    async with consuming(
        queues,
        recorder.handle,
        handle_batch=recorder.handle_batch,
        batch_max=16,
        prefetch=64,
        metrics=metrics,
    ):
        await publish_quickly([VisitorLeftQueue(site_id=site_id, visitor_id=v) for v in sent])
        await asyncio.sleep(0.3)  # the first delivery is in hand, the rest waits behind it
        recorder.release.set()
        await wait_until(lambda: len(recorder.handled()) >= len(sent))
        await asyncio.sleep(0.2)  # nothing more comes (each message handled once)
    assert recorder.handled() == sent
    sizes = [len(names) for _, names in recorder.calls]
    assert recorder.calls[0] == ("one", ["v000"])  # alone in the inbox: no batch waited for
    assert max(sizes) == 16  # the inbox held more than batch_max
    assert all(how == "batch" for how, names in recorder.calls if len(names) > 1)
    batches_seen = metrics.registry.get_sample_value(
        "livechat_consumed_batch_size_count", {"service": queues.service}
    )
    assert batches_seen == len(sizes)


async def publish_unreadable(site_id: str, marker: str) -> None:
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel(publisher_confirms=False)
        exchange = await channel.get_exchange(EVENTS_EXCHANGE)
        await exchange.publish(
            aio_pika.Message(b'{"type": "VisitorLeftQueue", "site_id": "%s"' % marker.encode()),
            routing_key=f"event.VisitorLeftQueue.{site_id}",
        )


@QUEUE_KINDS
async def test_an_unreadable_message_in_a_batch_is_dead_lettered_and_the_others_handled_once(
    site_id: str, per_instance: bool
) -> None:
    recorder = Recorder()
    queues = throwaway(per_instance=per_instance)
    async with consuming(queues, recorder.handle, handle_batch=recorder.handle_batch, batch_max=64):
        await publish_quickly([VisitorLeftQueue(site_id=site_id, visitor_id="first")])
        await publish_quickly(
            [VisitorLeftQueue(site_id=site_id, visitor_id=f"a{i}") for i in range(5)]
        )
        await publish_unreadable(site_id, "poison-in-a-batch")
        await publish_quickly(
            [VisitorLeftQueue(site_id=site_id, visitor_id=f"b{i}") for i in range(5)]
        )
        await asyncio.sleep(0.3)
        recorder.release.set()
        dead = await next_dead_letter(queues, "poison-in-a-batch")
        assert "Invalid JSON" in str(dead.headers[DEAD_LETTER_REASON_HEADER])
        expected = ["first"] + [f"a{i}" for i in range(5)] + [f"b{i}" for i in range(5)]
        await wait_until(lambda: len(recorder.handled()) >= len(expected))
        await asyncio.sleep(0.2)
    assert recorder.handled() == expected
    assert recorder.batches() == [expected[1:]]  # one batch, the poison left out


async def test_a_failing_batch_is_handled_one_by_one_and_the_bad_message_goes_its_way(
    site_id: str,
) -> None:
    """On a replica's own queue the bad message is rejected into the dead letters at once; the
    others of its batch are handled once each, in order."""
    recorder = Recorder(failing="bad")
    metrics = ServiceMetrics("batch-test")
    queues = throwaway(per_instance=True)
    names = ["first", "a0", "a1", "bad", "b0", "b1"]
    async with consuming(
        queues, recorder.handle, handle_batch=recorder.handle_batch, batch_max=64, metrics=metrics
    ):
        await publish_quickly([VisitorLeftQueue(site_id=site_id, visitor_id=n) for n in names])
        await asyncio.sleep(0.3)
        recorder.release.set()
        dead = await next_dead_letter(queues, '"bad"')
        assert dead.headers["x-first-death-reason"] == "rejected"
        await wait_until(lambda: len(recorder.handled()) >= len(names) - 1)
        await publish_quickly([VisitorLeftQueue(site_id=site_id, visitor_id="after")])
        await wait_until(lambda: "after" in recorder.handled())
    assert recorder.calls[:2] == [("one", ["first"]), ("batch", names[1:])]
    assert recorder.one_by_one() == ["first", "a0", "a1", "bad", "b0", "b1", "after"]
    assert recorder.handled() == ["first", "a0", "a1", "b0", "b1", "after"]
    fallbacks = metrics.registry.get_sample_value(
        "livechat_batch_fallbacks_total", {"service": queues.service}
    )
    assert fallbacks == 1


async def test_a_failing_message_of_a_batch_on_a_quorum_queue_is_retried_then_dead_lettered(
    site_id: str,
) -> None:
    recorder = Recorder(failing="bad")
    queues = throwaway()
    names = ["first", "a0", "bad", "b0"]
    async with consuming(queues, recorder.handle, handle_batch=recorder.handle_batch, batch_max=64):
        await publish_quickly([VisitorLeftQueue(site_id=site_id, visitor_id=n) for n in names])
        await asyncio.sleep(0.3)
        recorder.release.set()
        dead = await next_dead_letter(queues, '"bad"', timeout=30)
        assert dead.headers["x-first-death-reason"] == "delivery_limit"
    assert recorder.handled() == ["first", "a0", "b0"]
