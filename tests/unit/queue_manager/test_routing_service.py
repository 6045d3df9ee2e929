"""The use case around the domain: store before publish, idempotent redelivery, restart."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest
from livechat_shared.contracts import (
    ChatOffered,
    ExpireOffer,
    Message,
    OperatorSlotsChanged,
    Presence,
    SetOperatorPresence,
    VisitorWaiting,
)
from queue_manager.adapters.memory_journal import MemoryJournal
from queue_manager.domain import RoutingPolicy
from queue_manager.handlers import RoutingService
from queue_manager.ports import JournalEntry

from tests.unit.queue_manager.desk import SITE, T0


class RecordingPublisher:
    def __init__(self) -> None:
        self.published: list[Message] = []
        self.delayed: list[tuple[Message, float]] = []
        self.due_in: list[float | None] = []
        self.fail_next = False

    async def publish(self, message: Message) -> None:
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("broker went away")
        self.published.append(message)

    async def publish_delayed(
        self, message: Message, delay_seconds: float, due_in_seconds: float | None = None
    ) -> None:
        self.delayed.append((message, delay_seconds))
        self.due_in.append(due_in_seconds)


class FlakyJournal(MemoryJournal):
    def __init__(self) -> None:
        super().__init__()
        self.fail_next = False

    async def append_many(self, entries: Sequence[JournalEntry]) -> None:
        if self.fail_next:
            self.fail_next = False
            raise TimeoutError("store unreachable")
        await super().append_many(entries)


def service(journal: MemoryJournal, publisher: RecordingPublisher) -> RoutingService:
    policy = RoutingPolicy(max_chats=1, offer_timeout=timedelta(seconds=30))
    return RoutingService(journal, publisher, policy, clock=lambda: T0)


def names(messages: list[Message]) -> list[str]:
    return [type(m).__name__ for m in routed(messages)]


def routed(messages: list[Message]) -> list[Message]:
    """Leaves out OperatorSlotsChanged: what a decision moved, tested in test_operator_slots.py."""
    return [m for m in messages if not isinstance(m, OperatorSlotsChanged)]


online = SetOperatorPresence(site_id=SITE, operator_id="ann", presence=Presence.ONLINE)


def waiting(visitor: str) -> VisitorWaiting:
    return VisitorWaiting(site_id=SITE, visitor_id=visitor, occurred_at=T0)


async def test_offers_are_published_with_their_timeout_scheduled() -> None:
    publisher = RecordingPublisher()
    routing = service(MemoryJournal(), publisher)
    await routing.handle(online)
    await routing.handle(waiting("v0"))
    offer = next(m for m in publisher.published if isinstance(m, ChatOffered))
    [(expire, delay)] = publisher.delayed
    assert isinstance(expire, ExpireOffer) and expire.offer_id == offer.offer_id
    assert delay == pytest.approx(30.0)


async def test_a_redelivered_message_changes_nothing_and_republishes_the_same_events() -> None:
    publisher = RecordingPublisher()
    routing = service(MemoryJournal(), publisher)
    await routing.handle(online)
    message = waiting("v0")
    await routing.handle(message)
    first = list(publisher.published)
    await routing.handle(message)
    # same ids: consumers dedupe
    assert routed(publisher.published[len(first) :]) == routed(first)[1:]
    assert len(routing.site(SITE).offers) == 1


async def test_a_crash_between_store_and_publish_is_healed_by_the_redelivery() -> None:
    publisher = RecordingPublisher()
    routing = service(MemoryJournal(), publisher)
    await routing.handle(online)
    publisher.fail_next = True
    message = waiting("v0")
    with pytest.raises(ConnectionError):  # the message is not acked: it comes back
        await routing.handle(message)
    # VisitorQueued was lost on the way (its publish failed); the offer went out
    assert names(publisher.published[1:]) == ["ChatOffered"]
    await routing.handle(message)  # the broker redelivers the unacked message
    assert names(publisher.published[1:]) == ["ChatOffered", "VisitorQueued", "ChatOffered"]
    first, again = routed(publisher.published)[1], routed(publisher.published)[3]
    assert first.message_id == again.message_id  # the same event again: consumers dedupe
    assert len(routing.site(SITE).offers) == 1  # and nothing was decided twice


async def test_a_store_failure_leaves_the_state_as_stored() -> None:
    journal = FlakyJournal()
    routing = service(journal, RecordingPublisher())
    await routing.handle(online)
    journal.fail_next = True
    with pytest.raises(TimeoutError):
        await routing.handle(waiting("v0"))
    assert routing.site(SITE).visitors == {}
    await routing.handle(waiting("v0"))
    assert list(routing.site(SITE).visitors) == ["v0"]


async def test_a_restarted_service_resumes_exactly_where_it_stopped() -> None:
    journal = MemoryJournal()
    before = service(journal, RecordingPublisher())
    await before.handle(online)
    sent = [waiting(visitor) for visitor in ("v0", "v1", "v2")]
    for message in sent:
        await before.handle(message)
    after = service(journal, RecordingPublisher())
    assert await after.load() == 4
    old, new = before.site(SITE), after.site(SITE)
    assert new.visitors == old.visitors
    assert list(new.queues["chat"]) == list(old.queues["chat"])  # type: ignore[index]
    assert new.offers == old.offers
    assert new.journal_seq == old.journal_seq == 4
    # and it goes on: a duplicate from before the restart is still recognised
    publisher = after.publisher
    await after.handle(sent[1])
    assert isinstance(publisher, RecordingPublisher)
    assert names(publisher.published) == ["VisitorQueued", "QueuePositionsChanged"]


async def test_a_standby_that_becomes_active_decides_on_the_stored_state_not_its_stale_copy() -> (
    None
):
    journal = MemoryJournal()
    active = service(journal, RecordingPublisher())
    standby = service(journal, RecordingPublisher())
    await standby.load()  # started together; from now on only the active one consumes
    await active.handle(online)
    await active.handle(waiting("v0"))
    # the active replica dies; RabbitMQ hands the queue to the standby
    publisher = standby.publisher
    assert isinstance(publisher, RecordingPublisher)
    await standby.handle(waiting("v1"))  # ann is full (max 1): v1 must wait, not be offered
    await standby.handle(online)  # a redelivery of what the active one handled
    assert names(publisher.published) == [
        "VisitorQueued",
        "QueuePositionsChanged",
        "OperatorPresenceChanged",
    ]
    site = standby.site(SITE)
    assert [o.visitor_id for o in site.offers.values()] == ["v0"]
    assert [v.visitor_id for v in site.waiting("chat")] == ["v1"]  # type: ignore[arg-type]


async def test_a_redelivery_older_than_the_remembered_ids_is_still_recognised(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("queue_manager.handlers.RECENT_IDS", 2)
    publisher = RecordingPublisher()
    routing = service(MemoryJournal(), publisher)
    await routing.handle(online)
    old = waiting("v0")
    await routing.handle(old)
    for visitor in ("v1", "v2", "v3"):  # v0's id falls out of the remembered ones
        await routing.handle(waiting(visitor))
    before = len(publisher.published)
    await routing.handle(old)  # a very late redelivery
    site = routing.site(SITE)
    assert [o.visitor_id for o in site.offers.values()] == ["v0"]  # not decided twice
    assert [v.visitor_id for v in site.waiting("chat")] == ["v1", "v2", "v3"]  # type: ignore[arg-type]
    again = routed(publisher.published[before:])
    assert [m.message_id for m in again] == [m.message_id for m in routed(publisher.published)[1:3]]
