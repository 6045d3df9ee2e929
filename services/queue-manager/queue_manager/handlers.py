"""The use case: load the journal, then for each message decide → store → publish.

Decisions are serialized by a lock (and across replicas by the single active consumer). Each
decision is stored as one journal entry before anything is published, so a crash at any point
either loses nothing or republishes the same events (same ids) on redelivery.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from datetime import datetime

from livechat_shared.contracts import (
    Event,
    Message,
    parse_message,
)
from livechat_shared.contracts.partitions import partition_of
from livechat_shared.contracts.timers import Timer

from queue_manager.domain import RoutingPolicy, Site, apply, decide
from queue_manager.domain.timers import connection_rechecks, pending_expiries, started_by
from queue_manager.ports import (
    DuplicateEntry,
    JournalEntry,
    PartitionedRoutingJournal,
    Publisher,
    RoutingJournal,
)

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Observer = Callable[[Message, list[Event], "RoutingService"], None]

_ID_NAMESPACE = uuid.UUID("6f1d8a52-3c55-4d0e-9a51-1b7f3f0c8e21")


def _derived_id(key: str) -> uuid.UUID:
    return uuid.uuid5(_ID_NAMESPACE, key)


def _ids_for(message: Message) -> Callable[[], uuid.UUID]:
    """Ids derived from the causing message: deciding it again yields the very same ids."""
    counter = iter(range(1_000_000))
    seed = str(message.message_id)
    return lambda: uuid.uuid5(_ID_NAMESPACE, f"{seed}/{next(counter)}")


RECENT_IDS = 100_000
"""Message ids remembered in memory to spot redeliveries cheaply; an older redelivery is caught
by the journal's unique id when stored (then the state is reloaded and the stored events
republished), so memory stays bounded however long the history."""


class RecentIds:
    """The last `size` ids seen, with O(1) membership."""

    def __init__(self, size: int) -> None:
        self._order: collections.deque[str] = collections.deque()
        self._ids: set[str] = set()
        self._size = size

    def __contains__(self, message_id: object) -> bool:
        return message_id in self._ids

    def add(self, message_id: str) -> None:
        if message_id in self._ids:
            return
        self._order.append(message_id)
        self._ids.add(message_id)
        if len(self._order) > self._size:
            self._ids.discard(self._order.popleft())


class RoutingService:
    def __init__(
        self,
        journal: RoutingJournal,
        publisher: Publisher,
        policy: RoutingPolicy,
        clock: Clock,
        observe: Observer | None = None,
        partitions: PartitionedRoutingJournal | None = None,
    ) -> None:
        """`partitions`: the journal again when sites are partitioned (PARTITIONS > 1); this
        replica then holds only the sites of the partitions it got messages of."""
        self.journal = journal
        self.partitions = partitions
        self._owned: set[int] = set()
        self.publisher = publisher
        self.policy = policy
        self.clock = clock
        self.observe = observe
        self.sites: dict[str, Site] = {}
        self._recent = RecentIds(RECENT_IDS)
        self._lock = asyncio.Lock()
        self._in_flight: set[asyncio.Future[None]] = set()

    def site(self, site_id: str) -> Site:
        found = self.sites.get(site_id)
        if found is None:
            found = self.sites[site_id] = Site(site_id)
        return found

    async def load(self) -> int:
        """Rebuild every site from the journal; returns the number of entries replayed."""
        self.sites = {}
        self._recent = RecentIds(RECENT_IDS)
        return await self._replay(self.journal.replay())

    async def _replay(self, entries: AsyncIterator[JournalEntry]) -> int:
        count = 0
        async for entry in entries:
            site = self.site(entry.site_id)
            try:
                for raw in entry.events:
                    event = parse_message(raw)
                    assert isinstance(event, Event)
                    apply(site, event)
            except Exception as error:
                # Stop start-up saying which entry: deciding on a partial history would not do.
                raise RuntimeError(
                    f"journal entry {entry.message_id} (site {entry.site_id}, seq {entry.seq}) "
                    f"cannot be replayed: {error}"
                ) from error
            site.journal_seq = entry.seq
            self._recent.add(entry.message_id)
            count += 1
        return count

    async def rearm_timers(self) -> int:
        """After load, and when the broker comes back: arm again every pending expiry.

        Timers already waiting in their queues survive broker restarts; re-arming covers those
        held back (RabbitMQ retries one its target did not confirm only minutes later) or lost
        anyway (a timer queue deleted or purged, an upgrade from the classic delay queues).
        In order, soonest first: a timer queue expires messages only at its head.
        """
        pending = pending_expiries(self.sites.values(), self.policy, self.clock(), uuid.uuid4)
        for timer in pending:
            await self._start(timer)
        return len(pending)

    async def handle(self, message: Message) -> None:
        """Decide and store under the lock; publish in decision order while the next decision
        is made; return (so the message is acked) once this decision's events are confirmed."""
        async with self._lock:
            if self.partitions is not None:
                await self._take(partition_of(message.site_id, self.partitions.partitions), message)
            cause, events = await self._handle(message, retry_on_conflict=True)
            # Started in decision order: the channel writes publishes in the order they start,
            # so consumers see decisions in order while confirms come back concurrently.
            published = asyncio.ensure_future(self._publish(cause, events))
            self._in_flight.add(published)
            published.add_done_callback(self._in_flight.discard)
        await published

    async def _take(self, partition: int, first: Message) -> None:
        """The first message of a partition since this replica got it: open its journal and
        load its sites before deciding (another replica may have decided for them meanwhile),
        then arm their timers and console checks again, as at start."""
        assert self.partitions is not None
        if partition in self._owned:
            return
        await self.partitions.acquire(partition)
        replayed = await self._replay(self.partitions.replay_partition(partition))
        self._owned.add(partition)
        sites = [s for s in self.sites.values() if self._partition(s.site_id) == partition]
        now = self.clock()
        timers = pending_expiries(sites, self.policy, now, uuid.uuid4)
        for timer in timers:
            await self._start(timer)
        await asyncio.gather(*(self._start(c) for c in connection_rechecks(sites, self.policy)))
        log.info(
            "took over a partition",
            extra={
                "partition": partition,
                "journal_entries": replayed,
                "timers_rearmed": len(timers),
                # when the first message was sent: how long it waited for an owner
                "first_message_at": first.occurred_at.isoformat(),
            },
        )

    def _partition(self, site_id: str) -> int:
        assert self.partitions is not None
        return partition_of(site_id, self.partitions.partitions)

    async def release_partitions(self) -> None:
        """The consumer lost the broker: another replica may own our partitions from now on.
        Forget their sites and close their journals (embedded: let go of the locks)."""
        if self.partitions is None:
            return
        async with self._lock:
            await self.close()
            await self.partitions.release_all()
            self.sites = {}
            self._recent = RecentIds(RECENT_IDS)
            self._owned.clear()

    async def release_partition(self, partition: int) -> None:
        """The consumer handed the partition back to its owner: forget its sites and close its
        journal (embedded: let go of its lock, which the owner waits for)."""
        if self.partitions is None:
            return
        async with self._lock:
            await self.close()
            await self.partitions.release(partition)
            for site_id in [s for s in self.sites if self._partition(s) == partition]:
                del self.sites[site_id]
            self._owned.discard(partition)
        log.info("handed a partition back", extra={"partition": partition})

    async def close(self) -> None:
        """Let publishes under way finish (their messages are acked only then)."""
        await asyncio.gather(*self._in_flight, return_exceptions=True)

    async def _handle(
        self, message: Message, retry_on_conflict: bool
    ) -> tuple[Message, list[Event]]:
        message_id = str(message.message_id)
        if message_id in self._recent:
            return await self._stored(message, message_id)
        site = self.site(message.site_id)
        now = self.clock()
        try:
            events = decide(site, message, now, self.policy, _ids_for(message))
            await self.journal.append(
                JournalEntry(
                    message_id=message_id,
                    site_id=site.site_id,
                    seq=site.journal_seq + 1,
                    recorded_at=now,
                    message=message.model_dump(mode="json"),
                    events=[e.model_dump(mode="json") for e in events],
                )
            )
        except DuplicateEntry:
            # Another writer stored decisions we have not seen: this replica was a standby
            # and just became the active consumer. Take the stored truth and decide again.
            log.warning("the journal is ahead of this replica; reloading state")
            await self.load()
            if await self.journal.get(message_id) is not None:
                return await self._stored(message, message_id)  # an old redelivery
            if retry_on_conflict:
                return await self._handle(message, retry_on_conflict=False)
            raise
        except BaseException:
            await self.load()  # the decision was applied in memory but not stored
            raise
        site.journal_seq += 1
        self._recent.add(message_id)
        if self.observe is not None:
            self.observe(message, events, self)
        return message, events

    async def _stored(self, message: Message, message_id: str) -> tuple[Message, list[Event]]:
        """A message decided before (a redelivery): its stored events, to publish again."""
        entry = await self.journal.get(message_id)
        if entry is None:
            return message, []
        events = [parse_message(raw) for raw in entry.events]
        return parse_message(entry.message), [e for e in events if isinstance(e, Event)]

    async def _publish(self, cause: Message, events: Iterable[Event]) -> None:
        """Publish a decision's events in order, awaiting all their confirms together."""
        sends: list[Awaitable[None]] = []
        for event in events:
            # A consumed fact we kept (ChatEnded, a console claim) is not ours to publish; the
            # timer it starts (a connection check) is ours all the same.
            if event.message_id != cause.message_id:
                sends.append(self.publisher.publish(event))
            timer = started_by(event, self.policy, _derived_id)
            if timer is not None:
                sends.append(self._start(timer))
        await asyncio.gather(*sends)

    def _start(self, timer: Timer) -> Awaitable[None]:
        return self.publisher.publish_delayed(
            timer.command, timer.delay_seconds, due_in_seconds=timer.due_in_seconds
        )

    async def recheck_consoles(self) -> int:
        """After a load: a fresh check, once a lease and the grace have passed, for every
        operator whose presence hangs on console claims; returns how many were scheduled."""
        checks = connection_rechecks(self.sites.values(), self.policy)
        await asyncio.gather(*(self._start(check) for check in checks))
        return len(checks)
