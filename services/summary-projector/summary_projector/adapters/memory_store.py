"""The summary store in memory: the fake the tests use (without MONGO_URL, SQLite is used)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Collection, Sequence
from datetime import datetime, timedelta

from livechat_shared.contracts import Event

from summary_projector.ports import Save, SiteRecord, WriteConflict


class MemorySummaryStore:
    def __init__(self, retention: timedelta | None = None) -> None:
        self._records: dict[str, SiteRecord] = {}
        # in the order archived, which is about the order they occurred: pruned from the front
        self._archive: dict[str, tuple[datetime, int, Event]] = {}
        self.retention = retention
        self._arrivals = itertools.count()

    async def load(self, site_id: str) -> SiteRecord:
        return self._records.get(site_id) or SiteRecord.empty(site_id)

    async def commit(self, saves: Sequence[Save], events: Sequence[Event]) -> set[str]:
        for save in saves:  # all checked before any is stored: one transaction
            self._check(save)
        for save in saves:
            if not save.check_only:
                self._records[save.record.site_id] = save.record
        newly: set[str] = set()
        for event in events:
            event_id = str(event.event_id)
            if event_id not in self._archive:
                self._archive[event_id] = (event.occurred_at, next(self._arrivals), event)
                newly.add(event_id)
        if events:
            self._forget_older_than(max(e.occurred_at for e in events))
        return newly

    def _check(self, save: Save) -> None:
        record = save.record
        stored = self._records.get(record.site_id)
        version = 0 if stored is None else stored.version
        newest = record.recent[-1] if record.recent and not save.check_only else None
        if version != save.expected_version or (
            stored is not None and newest is not None and stored.has_applied(newest)
        ):
            raise WriteConflict(record.site_id)

    async def save(self, record: SiteRecord, expected_version: int) -> None:
        await self.commit([Save(record, expected_version)], [])

    async def archive(self, event: Event) -> bool:
        return bool(await self.commit([], [event]))

    def _forget_older_than(self, newest: datetime) -> None:
        """Retention as MongoDB's TTL index keeps it, measured from the newest event: the
        store needs no clock, and the archive holds one retention window of events."""
        if self.retention is None:
            return
        cutoff = newest - self.retention
        while self._archive:
            event_id, (occurred_at, _, _) = next(iter(self._archive.items()))
            if occurred_at >= cutoff:
                return
            del self._archive[event_id]

    async def is_archived(self, event_id: str) -> bool:
        return event_id in self._archive

    async def archived_among(self, event_ids: Collection[str]) -> set[str]:
        return {event_id for event_id in event_ids if event_id in self._archive}

    async def replay(self) -> AsyncIterator[Event]:
        for _, _, event in sorted(self._archive.values(), key=lambda e: (e[0], e[1])):
            yield event

    async def drop_summaries(self) -> None:
        self._records.clear()

    async def has_summaries(self) -> bool:
        return bool(self._records)

    async def has_archive(self) -> bool:
        return bool(self._archive)

    async def close(self) -> None:
        return None
