"""A batch of messages decided together: one journal write, the same outcome as one by one."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from livechat_shared.contracts import (
    AnnounceSiteSettings,
    Channel,
    Message,
    Presence,
    QueuePositionsChanged,
    SetOperatorPresence,
    SetSiteMaxChats,
    VisitorLeftQueue,
    VisitorWaiting,
)
from queue_manager.adapters.memory_journal import MemoryJournal
from queue_manager.handlers import RoutingService
from queue_manager.ports import JournalEntry

from tests.unit.queue_manager.desk import SITE, T0
from tests.unit.queue_manager.test_routing_service import (
    FlakyJournal,
    RecordingPublisher,
    names,
    online,
    service,
    waiting,
)

OTHER = "globex"


class CountingJournal(MemoryJournal):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[int] = []

    async def append_many(self, entries: Sequence[JournalEntry]) -> None:
        self.writes.append(len(entries))
        await super().append_many(entries)


def workload() -> list[Message]:
    """Two sites, operators coming online, visitors waiting and leaving: offers, queueing; a
    site's maximum raised (offers to the waiting) and another's settings announced."""
    messages: list[Message] = [online]
    messages += [waiting(f"v{i}") for i in range(5)]
    messages.append(VisitorLeftQueue(site_id=SITE, visitor_id="v2", occurred_at=T0))
    messages.append(
        SetOperatorPresence(site_id=OTHER, operator_id="carl", presence=Presence.ONLINE)
    )
    messages += [
        VisitorWaiting(site_id=OTHER, visitor_id=f"w{i}", occurred_at=T0) for i in range(3)
    ]
    messages.append(SetOperatorPresence(site_id=SITE, operator_id="bob", presence=Presence.ONLINE))
    messages.append(VisitorLeftQueue(site_id=SITE, visitor_id="v4", occurred_at=T0))
    messages.append(SetSiteMaxChats(site_id=SITE, max_chats=2))
    messages.append(AnnounceSiteSettings(site_id=OTHER))
    messages += [VisitorWaiting(site_id=SITE, visitor_id=f"v{i}", occurred_at=T0) for i in (5, 6)]
    return messages


def without_positions(messages: list[Message]) -> list[Message]:
    return [m for m in messages if not isinstance(m, QueuePositionsChanged)]


def positions(messages: list[Message]) -> list[QueuePositionsChanged]:
    return [m for m in messages if isinstance(m, QueuePositionsChanged)]


def timers(publisher: RecordingPublisher) -> list[tuple[object, float]]:
    """(A timer's occurred_at is when it was armed, not the decision's time.)"""
    return [(m.message_id, delay) for m, delay in publisher.delayed]


def state_of(routing: RoutingService, site_id: str) -> tuple[object, ...]:
    site = routing.site(site_id)
    return (
        dict(site.visitors),
        dict(site.offers),
        {channel: list(site.queues[channel]) for channel in Channel},
        site.max_chats,
        site.journal_seq,
    )


async def test_a_batch_decides_as_one_by_one_would_with_one_journal_write() -> None:
    one_publisher, batch_publisher = RecordingPublisher(), RecordingPublisher()
    one_by_one = service(MemoryJournal(), one_publisher)
    journal = CountingJournal()
    together = service(journal, batch_publisher)
    messages = workload()

    for message in messages:
        await one_by_one.handle(message)
    await together.handle_batch(messages)

    assert journal.writes == [len(messages)]
    for site_id in (SITE, OTHER):
        assert state_of(together, site_id) == state_of(one_by_one, site_id)
    # the same events, with the same ids, in the same order; and the same timers
    assert without_positions(batch_publisher.published) == without_positions(
        one_publisher.published
    )
    assert timers(batch_publisher) == timers(one_publisher)
    # a restart replays the batch's entries into the same state
    restarted = service(journal, RecordingPublisher())
    assert await restarted.load() == len(messages)
    for site_id in (SITE, OTHER):
        assert state_of(restarted, site_id) == state_of(together, site_id)


async def test_a_batch_announces_each_sites_queue_positions_once_as_they_end() -> None:
    one_publisher, batch_publisher = RecordingPublisher(), RecordingPublisher()
    one_by_one = service(MemoryJournal(), one_publisher)
    together = service(MemoryJournal(), batch_publisher)
    messages = workload()
    for message in messages:
        await one_by_one.handle(message)
    await together.handle_batch(messages)

    announced = positions(batch_publisher.published)
    assert len(positions(one_publisher.published)) > len(announced)
    assert sorted((p.site_id, p.channel) for p in announced) == [
        (SITE, Channel.CHAT),
        (OTHER, Channel.CHAT),
    ]
    for update in announced:
        last = [
            p
            for p in positions(one_publisher.published)
            if (p.site_id, p.channel) == (update.site_id, update.channel)
        ][-1]
        assert (update.waiting, update.total_waiting) == (last.waiting, last.total_waiting)
        assert update.waiting == together.site(update.site_id).head(update.channel)


async def test_a_batch_that_leaves_the_queue_heads_as_they_were_announces_no_positions() -> None:
    publisher = RecordingPublisher()
    routing = service(MemoryJournal(), publisher)
    await routing.handle(online)
    await routing.handle(waiting("v0"))  # offered to ann (max 1)
    before = len(publisher.published)
    joins = waiting("v1")
    leaves = VisitorLeftQueue(site_id=SITE, visitor_id="v1", occurred_at=T0)
    await routing.handle_batch([joins, leaves])
    assert positions(publisher.published[before:]) == []
    assert [type(m).__name__ for m in publisher.published[before:]] == [
        "VisitorQueued",
        "VisitorAbandoned",
    ]


async def test_a_redelivered_batch_republishes_the_same_events_and_decides_nothing_twice() -> None:
    publisher = RecordingPublisher()
    journal = CountingJournal()
    routing = service(journal, publisher)
    messages = workload()
    await routing.handle_batch(messages)
    first = list(publisher.published)
    state = state_of(routing, SITE)
    await routing.handle_batch(messages)
    assert publisher.published[len(first) :] == first
    assert state_of(routing, SITE) == state
    assert journal.writes == [len(messages)]  # nothing new to store


async def test_a_message_twice_in_one_batch_is_decided_once() -> None:
    publisher = RecordingPublisher()
    routing = service(MemoryJournal(), publisher)
    message = waiting("v0")
    await routing.handle_batch([online, message, message])
    site = routing.site(SITE)
    assert [o.visitor_id for o in site.offers.values()] == ["v0"]
    assert site.journal_seq == 2
    queued = [m for m in publisher.published if type(m).__name__ == "VisitorQueued"]
    assert len(queued) == 2 and queued[0] == queued[1]  # its events again, same ids


async def test_a_store_failure_in_a_batch_leaves_the_state_as_stored() -> None:
    journal = FlakyJournal()
    publisher = RecordingPublisher()
    routing = service(journal, publisher)
    await routing.handle(online)
    published = len(publisher.published)
    journal.fail_next = True
    with pytest.raises(TimeoutError):
        await routing.handle_batch([waiting("v0"), waiting("v1")])
    assert routing.site(SITE).visitors == {}
    assert routing.site(SITE).journal_seq == 1
    assert len(publisher.published) == published  # nothing published that was not stored
    await routing.handle_batch([waiting("v0"), waiting("v1")])
    assert list(routing.site(SITE).visitors) == ["v0", "v1"]


async def test_a_standby_taking_over_mid_batch_decides_on_the_stored_state() -> None:
    journal = MemoryJournal()
    active = service(journal, RecordingPublisher())
    standby = service(journal, RecordingPublisher())
    await standby.load()
    await active.handle_batch([online, waiting("v0")])
    publisher = standby.publisher
    assert isinstance(publisher, RecordingPublisher)
    # a new message, then a redelivery of what the active one stored
    await standby.handle_batch([waiting("v1"), online])
    assert names(publisher.published) == [
        "VisitorQueued",
        "QueuePositionsChanged",
        "OperatorPresenceChanged",
    ]
    site = standby.site(SITE)
    assert [o.visitor_id for o in site.offers.values()] == ["v0"]
    assert [v.visitor_id for v in site.waiting(Channel.CHAT)] == ["v1"]
