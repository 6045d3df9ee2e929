"""Settling a batch acks exactly what was handled: one multiple-ack, never a delivery in doubt.

The fake channel keeps the broker's books: the unsettled delivery tags, a multiple-ack settles
every one up to its tag, and settling a tag that is not outstanding is the broker's
PRECONDITION_FAILED (it closes the channel), here an AssertionError.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import pytest
from livechat_shared.contracts import Message, VisitorLeftQueue
from livechat_shared.contracts.partitions import PARTITION_HEADER, PARTITIONS_HEADER, partition_of
from livechat_shared.contracts.topology import ServiceQueues
from livechat_shared.runtime.broker import Bus
from livechat_shared.runtime.handling import settler
from livechat_shared.runtime.metrics import ServiceMetrics


class FakeChannel:
    def __init__(self) -> None:
        self.is_closed = False
        self.outstanding: set[int] = set()
        self.acks: list[tuple[int, bool]] = []
        self.nacked: list[int] = []
        self.next_tag = 1

    def settle(self, tag: int, multiple: bool) -> set[int]:
        assert not self.is_closed, "settled on a closed channel"
        assert tag in self.outstanding, f"tag {tag} is not outstanding"
        settled = {t for t in self.outstanding if t <= tag} if multiple else {tag}
        self.outstanding -= settled
        return settled


class FakeDelivery:
    def __init__(self, channel: FakeChannel, body: bytes) -> None:
        self.channel = channel
        self.body = body
        self.headers: dict[str, Any] = {}
        self.routing_key = "event.VisitorLeftQueue.s"
        self.delivery_tag = channel.next_tag
        channel.next_tag += 1
        channel.outstanding.add(self.delivery_tag)

    async def ack(self, multiple: bool = False) -> None:
        self.channel.settle(self.delivery_tag, multiple)
        self.channel.acks.append((self.delivery_tag, multiple))

    async def nack(self, requeue: bool = True) -> None:
        self.channel.settle(self.delivery_tag, False)
        self.channel.nacked.append(self.delivery_tag)


class FakeBus:
    def __init__(self, partitions: int = 1) -> None:
        self.queues = ServiceQueues(service="settling-test", consumes=(VisitorLeftQueue,))
        self.partitions = partitions
        self.dead_letters: list[bytes] = []
        self.reasons: list[str] = []

    async def dead_letter(
        self, body: bytes, headers: dict[str, Any], routing_key: str | None, reason: str
    ) -> None:
        self.dead_letters.append(body)
        self.reasons.append(reason)


def good(name: str) -> bytes:
    return VisitorLeftQueue(site_id="s", visitor_id=name).model_dump_json().encode()


class Handlers:
    def __init__(self, failing: str | None = None) -> None:
        self.batches: list[list[str]] = []
        self.one_by_one: list[str] = []
        self.failing = failing

    async def handle(self, message: Message) -> None:
        assert isinstance(message, VisitorLeftQueue)
        self.one_by_one.append(message.visitor_id)
        if message.visitor_id == self.failing:
            raise RuntimeError("bad message")

    async def handle_batch(self, messages: Sequence[Message]) -> None:
        names = [m.visitor_id for m in messages if isinstance(m, VisitorLeftQueue)]
        self.batches.append(names)
        if self.failing in names:
            raise RuntimeError("bad batch")


def settle_with(handlers: Handlers, bus: FakeBus) -> Any:
    return settler(
        cast(Bus, bus), ServiceMetrics("settling-test"), handlers.handle, handlers.handle_batch
    )


async def test_a_batch_is_acked_with_one_multiple_ack_and_leaves_later_deliveries_unsettled() -> (
    None
):
    channel, bus, handlers = FakeChannel(), FakeBus(), Handlers()
    first = [FakeDelivery(channel, good(f"a{i}")) for i in range(4)]
    second = [FakeDelivery(channel, good(f"b{i}")) for i in range(3)]  # prefetched, not yet taken
    settle = settle_with(handlers, bus)

    await settle(first)

    assert handlers.batches == [["a0", "a1", "a2", "a3"]]
    assert channel.acks == [(4, True)]
    assert channel.outstanding == {d.delivery_tag for d in second}
    await settle(second)
    assert channel.acks == [(4, True), (7, True)]
    assert channel.outstanding == set()


async def test_an_unreadable_delivery_in_a_batch_is_dead_lettered_and_acked_before_the_rest() -> (
    None
):
    channel, bus, handlers = FakeChannel(), FakeBus(), Handlers()
    batch = [
        FakeDelivery(channel, good("a0")),
        FakeDelivery(channel, b"{not json"),
        FakeDelivery(channel, good("a1")),
    ]
    await settle_with(handlers, bus)(batch)
    assert bus.dead_letters == [b"{not json"]
    assert handlers.batches == [["a0", "a1"]]
    assert channel.acks == [(2, False), (3, True)]
    assert channel.outstanding == set()


async def test_a_failing_batch_falls_back_to_one_by_one_and_only_the_bad_message_is_rejected() -> (
    None
):
    channel, bus, handlers = FakeChannel(), FakeBus(), Handlers(failing="bad")
    batch = [FakeDelivery(channel, good(n)) for n in ("a0", "bad", "a1")]
    later = FakeDelivery(channel, good("later"))
    await settle_with(handlers, bus)(batch)
    assert handlers.batches == [["a0", "bad", "a1"]]
    assert handlers.one_by_one == ["a0", "bad", "a1"]
    assert channel.acks == [(1, False), (3, False)]
    assert channel.nacked == [2]
    assert channel.outstanding == {later.delivery_tag}


@pytest.mark.parametrize("batch_handler", [True, False])
async def test_a_batch_of_one_goes_to_the_one_message_handler(batch_handler: bool) -> None:
    channel, bus, handlers = FakeChannel(), FakeBus(), Handlers()
    settle: Any = settler(
        cast(Bus, bus),
        ServiceMetrics("settling-test"),
        handlers.handle,
        handlers.handle_batch if batch_handler else None,
    )
    await settle([FakeDelivery(channel, good("alone"))])
    assert handlers.one_by_one == ["alone"]
    assert handlers.batches == []
    assert channel.acks == [(1, False)]


async def test_a_batch_of_several_channels_is_acked_on_each_channel_up_to_its_last_delivery() -> (
    None
):
    # partitions: each partition's queue on a channel of its own, one inbox, one batch
    one, two, bus, handlers = FakeChannel(), FakeChannel(), FakeBus(), Handlers()
    batch = [
        FakeDelivery(one, good("a0")),
        FakeDelivery(two, good("b0")),
        FakeDelivery(one, good("a1")),
        FakeDelivery(two, good("b1")),
        FakeDelivery(two, good("b2")),
    ]
    later = FakeDelivery(one, good("later"))
    await settle_with(handlers, bus)(batch)
    assert handlers.batches == [["a0", "b0", "a1", "b1", "b2"]]
    assert one.acks == [(2, True)]
    assert two.acks == [(3, True)]
    assert one.outstanding == {later.delivery_tag}
    assert two.outstanding == set()


async def test_a_channel_closed_while_its_batch_was_handled_is_not_acked_on() -> None:
    # its partition went to another replica (or the connection went): the broker took its
    # deliveries back and delivers them again
    one, two, bus = FakeChannel(), FakeChannel(), FakeBus()

    class ClosingTwo(Handlers):
        async def handle_batch(self, messages: Sequence[Message]) -> None:
            await super().handle_batch(messages)
            two.is_closed = True

    handlers = ClosingTwo()
    batch = [FakeDelivery(one, good("a0")), FakeDelivery(two, good("b0"))]
    await settle_with(handlers, bus)(batch)
    assert one.acks == [(1, True)]
    assert two.acks == []


async def test_a_delivery_of_other_partitions_in_a_batch_is_dead_lettered_the_rest_handled() -> (
    None
):
    channel, bus, handlers = FakeChannel(), FakeBus(partitions=4), Handlers()
    here = {PARTITION_HEADER: str(partition_of("s", 4)), PARTITIONS_HEADER: "4"}
    batch = [FakeDelivery(channel, good(n)) for n in ("a0", "other", "a1", "old")]
    batch[0].headers = batch[2].headers = here
    batch[1].headers = {PARTITION_HEADER: str(partition_of("s", 6)), PARTITIONS_HEADER: "6"}
    batch[3].headers = {PARTITION_HEADER: str((partition_of("s", 4) + 1) % 4)}
    await settle_with(handlers, bus)(batch)
    assert bus.dead_letters == [batch[1].body, batch[3].body]
    assert bus.reasons[0].startswith("published for PARTITIONS=6")
    assert bus.reasons[1].startswith("published for partition")
    assert handlers.batches == [["a0", "a1"]]
    assert channel.acks == [(2, False), (4, False), (3, True)]
    assert channel.outstanding == set()


async def test_a_consumer_of_one_partition_does_not_check_the_headers() -> None:
    channel, bus, handlers = FakeChannel(), FakeBus(partitions=1), Handlers()
    delivery = FakeDelivery(channel, good("a0"))
    delivery.headers = {PARTITION_HEADER: "5", PARTITIONS_HEADER: "6"}
    await settle_with(handlers, bus)([delivery])
    assert bus.dead_letters == []
    assert handlers.one_by_one == ["a0"]
