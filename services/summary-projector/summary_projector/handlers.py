"""The use case: project consumed events into their sites' summaries, counting each event once.

Events come in batches (what the consumer found waiting, in delivery order); one event is a
batch of one. A batch costs one read of the archive, a load per site it touches, and ONE store
write for everything it changed, however many events it holds.

The order of writes is what makes every event count once, however often it is delivered:
1. An event in the archive was applied already: it is archived only after its summary write.
2. Otherwise the site record's recent ids catch a redelivery after a crash between 3 and 4.
3. Each changed record is saved conditionally on its version, with its events' ids in that write.
4. Then the events are archived (events that cannot change the summary are only archived).
The embedded store does 3 and 4 in one transaction; MongoDB in two bulk writes, in that order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from livechat_shared.contracts import Event, Message

from summary_projector.domain import SummaryState, affects_summary, apply
from summary_projector.ports import Save, SiteRecord, SummaryStore, WriteConflict

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Changed = Callable[[SiteRecord], None]
"""Told of each site record a batch saved (to push it to the streams that follow the site)."""
ATTEMPTS = 5
"""Writes tried per batch when other writers keep changing its sites; then it is refused."""


class Observer(Protocol):
    def applied_event(self, event: Event, lag_seconds: float) -> None: ...

    def duplicate_event(self, event: Event) -> None: ...

    def write_conflict(self) -> None: ...


def _nobody(_: SiteRecord) -> None:
    return None


@dataclass
class _Site:
    """A site while a batch is applied to it: the record loaded, a copy of its state changed in
    place, and the ids of the events that changed it."""

    record: SiteRecord
    state: SummaryState
    changed_by: list[str] = field(default_factory=list)
    unchanged_by: int = 0
    """Events applied to it that changed nothing: decided on the version read."""

    def save(self) -> Save:
        if not self.changed_by:
            return Save(self.record, self.record.version, check_only=True)
        return Save(self.record.after_all(self.changed_by, self.state), self.record.version)


APPLIED, DUPLICATE, ARCHIVED_ONLY = "applied", "duplicate", "archived only"


@dataclass
class _Plan:
    """What one attempt at a batch decided: each event's fate, and what to store."""

    fates: list[tuple[Event, str]] = field(default_factory=list)
    to_archive: list[Event] = field(default_factory=list)
    sites: dict[str, _Site] = field(default_factory=dict)


class ProjectionService:
    def __init__(
        self,
        store: SummaryStore,
        clock: Clock,
        observer: Observer | None = None,
        changed: Changed = _nobody,
    ) -> None:
        self.store = store
        self.clock = clock
        self.observer = observer
        self.changed = changed

    async def handle(self, message: Message) -> None:
        await self.handle_batch([message])

    async def handle_batch(self, messages: Sequence[Message]) -> None:
        """The same as `handle` on each message in order, stored in one write."""
        if log.isEnabledFor(logging.DEBUG):
            for message in messages:  # the batch's own correlation ids, not the first one's
                log.debug(
                    "consumed",
                    extra={
                        "type": message.type_name(),
                        "site_id": message.site_id,
                        "correlation_id": message.correlation_id,
                    },
                )
        await self.project_all([m for m in messages if isinstance(m, Event)])

    async def project(self, event: Event) -> bool:
        """Apply the event; False if it had been applied before (a redelivery or a replay)."""
        return bool(await self.project_all([event]))

    async def project_all(self, events: Sequence[Event]) -> list[Event]:
        """Apply the events in order; those not applied before (redeliveries, replays and
        repeats within the batch are not)."""
        if not events:
            return []
        for _ in range(ATTEMPTS):
            plan = await self._plan(events)
            saves = [s.save() for s in plan.sites.values() if s.changed_by or s.unchanged_by]
            try:
                newly = await self.store.commit(saves, plan.to_archive)
            except WriteConflict:
                if self.observer is not None:
                    self.observer.write_conflict()
                # another writer got there first (another replica had the site a moment ago):
                # apply to what it stored
                log.info("a site changed since it was read; applying the batch again")
                continue
            break
        else:
            raise WriteConflict(f"gave up after {ATTEMPTS} conflicting writes")
        for save in saves:
            if not save.check_only:
                self.changed(save.record)
        applied: list[Event] = []
        duplicates: list[Event] = []
        for event, fate in plan.fates:
            new = fate == APPLIED or (fate == ARCHIVED_ONLY and str(event.event_id) in newly)
            (applied if new else duplicates).append(event)
        self._observe(applied, duplicates)
        return applied

    async def _plan(self, events: Sequence[Event]) -> _Plan:
        plan = _Plan()
        archived = await self.store.archived_among({str(e.event_id) for e in events})
        seen: set[str] = set()
        for event in events:
            event_id = str(event.event_id)
            if event_id in archived or event_id in seen:
                plan.fates.append((event, DUPLICATE))
                continue
            seen.add(event_id)
            plan.to_archive.append(event)
            if not affects_summary(event):
                plan.fates.append((event, ARCHIVED_ONLY))
                continue
            site = await self._site(plan, event.site_id)
            if site.record.has_applied(event_id):
                # The crash came between saving the record and archiving the event.
                plan.fates.append((event, DUPLICATE))
                continue
            if apply(site.state, event):
                site.changed_by.append(event_id)
            else:
                site.unchanged_by += 1
            # else nothing to count: a hold of an ended chat, a repeated presence
            plan.fates.append((event, APPLIED))
        return plan

    async def _site(self, plan: _Plan, site_id: str) -> _Site:
        site = plan.sites.get(site_id)
        if site is None:
            record = await self.store.load(site_id)
            # One copy per site and batch: the store's record stays as it was saved until
            # the batch's write succeeds, and readers never see a half-applied batch.
            site = plan.sites[site_id] = _Site(record, record.state.copy())
        return site

    def _observe(self, applied: list[Event], duplicates: list[Event]) -> None:
        if self.observer is not None:
            now = self.clock()
            for event in applied:
                self.observer.applied_event(event, (now - event.occurred_at).total_seconds())
            for event in duplicates:
                self.observer.duplicate_event(event)
        for event in duplicates:
            log.debug("duplicate event skipped", extra={"event_id": str(event.event_id)})
