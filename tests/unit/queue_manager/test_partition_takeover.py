"""A partition that changes replicas: the new owner loads that partition's sites before deciding."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest
from livechat_shared.contracts import (
    AcceptOffer,
    ChatOffered,
    ChatStarted,
    CommandRejected,
    Presence,
    SetOperatorPresence,
    VisitorWaiting,
)
from livechat_shared.contracts.partitions import partition_of
from queue_manager.adapters.memory_journal import MemoryJournal
from queue_manager.adapters.partitioned_journal import PartitionedJournal, PartitionNotHeld
from queue_manager.domain import RoutingPolicy
from queue_manager.handlers import RoutingService
from queue_manager.ports import DuplicateEntry, JournalEntry

from tests.unit.queue_manager.desk import T0
from tests.unit.queue_manager.test_routing_service import RecordingPublisher

PARTITIONS = 4


def sites_in(partition: int, count: int = 2) -> list[str]:
    found = [
        s for s in (f"site-{n}" for n in range(200)) if partition_of(s, PARTITIONS) == partition
    ]
    return found[:count]


class CountingJournal(MemoryJournal):
    """A partition's journal that counts its writes."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[list[str]] = []

    async def append_many(self, entries: Sequence[JournalEntry]) -> None:
        self.writes.append([e.site_id for e in entries])
        await super().append_many(entries)


class Store:
    """The shared store (MongoDB in production): one journal per partition, seen by every replica."""

    def __init__(self) -> None:
        self.journals = {k: CountingJournal() for k in range(PARTITIONS)}

    def replica(self, publisher: RecordingPublisher) -> RoutingService:
        journal = PartitionedJournal(self.journals.__getitem__, PARTITIONS)
        policy = RoutingPolicy(max_chats=1, offer_timeout=timedelta(seconds=30))
        return RoutingService(journal, publisher, policy, clock=lambda: T0, partitions=journal)


def online(site: str) -> SetOperatorPresence:
    return SetOperatorPresence(site_id=site, operator_id="ann", presence=Presence.ONLINE)


def waiting(site: str, visitor: str) -> VisitorWaiting:
    return VisitorWaiting(site_id=site, visitor_id=visitor, occurred_at=T0)


async def test_the_new_owner_of_a_partition_decides_on_what_the_old_one_stored() -> None:
    store = Store()
    first, second = RecordingPublisher(), RecordingPublisher()
    a, b = store.replica(first), store.replica(second)
    site = sites_in(2)[0]
    await a.handle(online(site))
    await a.handle(waiting(site, "v1"))
    offer = next(m for m in first.published if isinstance(m, ChatOffered))

    # a's consumer dies; the broker hands partition 2 to b, whose first message is the answer
    await b.handle(AcceptOffer(site_id=site, offer_id=offer.offer_id, operator_id="ann"))
    assert [type(m) for m in second.published if isinstance(m, ChatStarted | CommandRejected)] == [
        ChatStarted
    ]
    # and ann is full (one chat at most): the next visitor waits, nobody is offered twice
    await b.handle(waiting(site, "v2"))
    assert not [m for m in second.published if isinstance(m, ChatOffered)]


async def test_a_replica_holds_only_the_partitions_it_got_messages_of() -> None:
    store = Store()
    routing = store.replica(RecordingPublisher())
    here, there = sites_in(1)[0], sites_in(3)[0]
    await routing.handle(online(here))
    journal = routing.partitions
    assert journal is not None and journal.held == (1,)  # type: ignore[attr-defined]
    assert set(routing.sites) == {here}
    await routing.handle(online(there))
    assert journal.held == (1, 3)  # type: ignore[attr-defined]

    await routing.release_partitions()  # its consumer lost the broker
    assert routing.sites == {} and journal.held == ()  # type: ignore[attr-defined]
    await routing.handle(waiting(there, "v1"))  # got partition 3 back: loaded again
    assert set(routing.sites) == {there}
    assert routing.site(there).journal_seq == 2


async def test_a_partition_not_taken_is_never_written() -> None:
    journal = PartitionedJournal(Store().journals.__getitem__, PARTITIONS)
    entry = JournalEntry(
        message_id="m1", site_id=sites_in(0)[0], seq=1, recorded_at=T0, message={}, events=[]
    )
    with pytest.raises(PartitionNotHeld):
        await journal.append(entry)


async def test_a_partition_handed_back_is_forgotten_and_loaded_again_when_it_returns() -> None:
    store = Store()
    routing = store.replica(RecordingPublisher())
    kept, handed = sites_in(0)[0], sites_in(1)[0]
    await routing.handle(online(kept))
    await routing.handle(online(handed))

    await routing.release_partition(1)  # its owner is back: the consumer handed it over
    assert set(routing.sites) == {kept}
    journal = routing.partitions
    assert journal is not None and journal.held == (0,)  # type: ignore[attr-defined]

    other = store.replica(RecordingPublisher())  # the owner decides meanwhile
    await other.handle(waiting(handed, "v1"))
    await routing.handle(waiting(handed, "v2"))  # and hands it back again later
    assert routing.site(handed).journal_seq == 3


async def test_a_batch_takes_every_partition_it_holds_sites_of_before_it_decides() -> None:
    store = Store()
    first, second = RecordingPublisher(), RecordingPublisher()
    a, b = store.replica(first), store.replica(second)
    one, two = sites_in(1)[0], sites_in(2)[0]
    await a.handle_batch([online(one), online(two)])
    assert store.journals[1].writes == [[one]] and store.journals[2].writes == [[two]]

    # a goes; b gets both partitions, and its first batch holds a visitor of each: ann is
    # online on both sites only if b loaded both partitions before deciding the first one
    await b.handle_batch([waiting(one, "v1"), waiting(two, "v2"), waiting(one, "v3")])
    offered = [(m.site_id, m.visitor_id) for m in second.published if isinstance(m, ChatOffered)]
    assert offered == [(one, "v1"), (two, "v2")]  # ann has one slot per site
    journal = b.partitions
    assert journal is not None and journal.held == (1, 2)  # type: ignore[attr-defined]
    # one group commit per partition: each partition's share of the batch in one write
    assert store.journals[1].writes == [[one], [one, one]]
    assert store.journals[2].writes == [[two], [two]]
    assert b.site(one).journal_seq == 3 and b.site(two).journal_seq == 2


async def test_a_partitioned_group_commit_writes_every_partition_before_it_raises() -> None:
    store = Store()
    journal = PartitionedJournal(store.journals.__getitem__, PARTITIONS)
    await journal.acquire(1)
    await journal.acquire(2)
    one, two = sites_in(1)[0], sites_in(2)[0]

    def entry(message_id: str, site: str, seq: int) -> JournalEntry:
        return JournalEntry(
            message_id=message_id, site_id=site, seq=seq, recorded_at=T0, message={}, events=[]
        )

    await journal.append_many([entry("m1", one, 1)])
    with pytest.raises(DuplicateEntry):  # partition 1's share clashes, partition 2's is stored
        await journal.append_many([entry("m2", one, 1), entry("m3", two, 1)])
    assert await journal.get("m3") is not None
    assert await journal.get("m2") is None
    with pytest.raises(PartitionNotHeld):  # nothing written when one partition is not held
        await journal.append_many([entry("m4", two, 2), entry("m5", sites_in(3)[0], 1)])
    assert await journal.get("m4") is None
