"""The use case: load the journal, then for each batch of messages decide → store → publish.

Decisions are serialized by a lock (and across replicas by the single active consumer). Each
decision is stored as one journal entry before anything is published, so a crash at any point
either loses nothing or republishes the same events (same ids) on redelivery. A batch (what
waited in the input queue together) is decided in order and stored with one journal write
(group commit); its events are then published together and their confirms awaited once.

Partitioned sites (PARTITIONS > 1): a replica holds only the partitions it got messages of. A
batch may hold sites of several partitions: each one not held yet is taken (its journal opened,
its sites loaded, their timers armed again) before the batch's first decision, and the
partitioned journal stores each partition's share of the batch with a write of its own.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from livechat_shared.contracts import (
    AnnounceSiteSettings,
    Event,
    Message,
    parse_message,
)
from livechat_shared.contracts.partitions import partition_of
from livechat_shared.contracts.timers import Timer

from queue_manager.domain import RoutingPolicy, Site, apply, decide
from queue_manager.domain.decide import Heads, announce_positions, heads
from queue_manager.domain.decision import NewId
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
Decided = tuple[Message, list[Event]]
"""A message and the events its decision produced (to publish, in order)."""

_ID_NAMESPACE = uuid.UUID("6f1d8a52-3c55-4d0e-9a51-1b7f3f0c8e21")


def _derived_id(key: str) -> uuid.UUID:
    return uuid.uuid5(_ID_NAMESPACE, key)


def _ids_for(message: Message) -> Callable[[], uuid.UUID]:
    """Ids derived from the causing message: deciding it again yields the very same ids."""
    counter = iter(range(1_000_000))
    seed = str(message.message_id)
    return lambda: uuid.uuid5(_ID_NAMESPACE, f"{seed}/{next(counter)}")


@dataclass
class _Pending:
    """A decision made in memory, not stored yet."""

    message: Message
    message_id: str
    site: Site
    seq: int
    now: datetime
    new_id: NewId
    events: list[Event]

    def entry(self) -> JournalEntry:
        return JournalEntry(
            message_id=self.message_id,
            site_id=self.site.site_id,
            seq=self.seq,
            recorded_at=self.now,
            message=self.message.model_dump(mode="json"),
            events=[e.model_dump(mode="json") for e in self.events],
        )


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
        """One message: a batch of one."""
        await self.handle_batch([message])

    async def handle_batch(self, messages: Sequence[Message]) -> None:
        """Decide each message in order and store all the decisions with one journal write,
        under the lock; publish all their events in decision order while the next batch is
        decided; return (so the messages are acked) once every event is confirmed."""
        async with self._lock:
            if self.partitions is not None:
                # every partition of the batch loaded before the first decision
                for partition, first in self._partitions_of(messages).items():
                    await self._take(partition, first)
            decided = await self._decide(messages)
            # Started in decision order: the channel writes publishes in the order they start,
            # so consumers see decisions in order while confirms come back concurrently.
            published = asyncio.ensure_future(self._publish(decided))
            self._in_flight.add(published)
            published.add_done_callback(self._in_flight.discard)
        await published

    def _partitions_of(self, messages: Sequence[Message]) -> dict[int, Message]:
        """The partitions a batch holds sites of, each with its first message, in order."""
        assert self.partitions is not None
        firsts: dict[int, Message] = {}
        for message in messages:
            firsts.setdefault(partition_of(message.site_id, self.partitions.partitions), message)
        return firsts

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

    async def _decide(self, messages: Sequence[Message]) -> list[Decided]:
        try:
            return await self._decide_together(messages)
        except DuplicateEntry:
            # Another writer stored decisions we have not seen: this replica was a standby
            # and just became the active consumer. Take the stored truth and go one by one.
            log.warning("the journal is ahead of this replica; reloading state")
            await self.load()
            return [await self._handle(m, retry_on_conflict=True) for m in messages]

    async def _decide_together(self, messages: Sequence[Message]) -> list[Decided]:
        """Group commit: every new decision of the batch in one journal write. Each site's
        queue positions are announced once, in its last decision of the batch, if they moved."""
        decided: list[Decided] = []
        pending: list[_Pending] = []
        in_batch: dict[str, int] = {}  # message id -> its place in `decided`
        heads_before: dict[str, Heads] = {}
        last_of_site: dict[str, _Pending] = {}
        try:
            for message in messages:
                message_id = str(message.message_id)
                if message_id in in_batch:  # the same message twice: its events again
                    decided.append(decided[in_batch[message_id]])
                    continue
                if message_id in self._recent:
                    decided.append(await self._stored(message, message_id))
                    continue
                site = self.site(message.site_id)
                if site.site_id not in heads_before:
                    heads_before[site.site_id] = heads(site)
                now = self.clock()
                new_id = _ids_for(message)
                events = decide(site, message, now, self.policy, new_id, positions=False)
                previous = last_of_site.get(site.site_id)
                seq = (previous.seq if previous else site.journal_seq) + 1
                step = _Pending(message, message_id, site, seq, now, new_id, events)
                last_of_site[site.site_id] = step
                pending.append(step)
                in_batch[message_id] = len(decided)
                decided.append((message, events))
            for site_id, step in last_of_site.items():
                site = step.site
                # (extends the list `decided` holds too)
                step.events += announce_positions(
                    site, heads_before[site_id], step.message, step.now, self.policy, step.new_id
                )
            if pending:
                await self.journal.append_many([step.entry() for step in pending])
        except DuplicateEntry:
            raise  # (the caller reloads)
        except BaseException:
            await self.load()  # decisions were applied in memory but not stored
            raise
        for step in pending:
            step.site.journal_seq = step.seq
            self._recent.add(step.message_id)
            if self.observe is not None:
                self.observe(step.message, step.events, self)
        return decided

    async def _handle(self, message: Message, retry_on_conflict: bool) -> Decided:
        """One message on its own (after a takeover): decide, store, or find it stored."""
        message_id = str(message.message_id)
        if message_id in self._recent:
            return await self._stored(message, message_id)
        site = self.site(message.site_id)
        now = self.clock()
        try:
            new_id = _ids_for(message)
            events = decide(site, message, now, self.policy, new_id)
            await self.journal.append_many(
                [
                    _Pending(
                        message, message_id, site, site.journal_seq + 1, now, new_id, events
                    ).entry()
                ]
            )
        except DuplicateEntry:
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

    async def _stored(self, message: Message, message_id: str) -> Decided:
        """A message decided before (a redelivery): its stored events, to publish again."""
        entry = await self.journal.get(message_id)
        if entry is None:
            return message, []
        events = [parse_message(raw) for raw in entry.events]
        return parse_message(entry.message), [e for e in events if isinstance(e, Event)]

    async def _publish(self, decided: Iterable[Decided]) -> None:
        """Publish the decisions' events in order, awaiting all their confirms together."""
        sends: list[Awaitable[None]] = []
        for cause, events in decided:
            for event in events:
                # A consumed fact we kept (ChatEnded, a console claim) is not ours to publish;
                # the timer it starts (a connection check) is ours all the same.
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

    async def announce_sites(self) -> int:
        """After a load: each known site's settings and its operators' slots are announced
        once, through this service's own queue (so in order with every other decision), for
        read models that never saw them (an upgrade) or a default that changed."""
        sites = sorted(self.sites)
        await asyncio.gather(
            *(self.publisher.publish(AnnounceSiteSettings(site_id=site_id)) for site_id in sites)
        )
        return len(sites)

    async def recheck_consoles(self) -> int:
        """After a load: a fresh check, once a lease and the grace have passed, for every
        operator whose presence hangs on console claims; returns how many were scheduled."""
        checks = connection_rechecks(self.sites.values(), self.policy)
        await asyncio.gather(*(self._start(check) for check in checks))
        return len(checks)
