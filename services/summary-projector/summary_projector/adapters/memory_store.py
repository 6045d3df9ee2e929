"""The summary store in memory: the fake the tests use (without MONGO_URL, SQLite is used)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

from livechat_shared.contracts import Event

from summary_projector.ports import SiteRecord, WriteConflict


class MemorySummaryStore:
    def __init__(self, retention: timedelta | None = None) -> None:
        self._records: dict[str, SiteRecord] = {}
        # in the order archived, which is about the order they occurred: pruned from the front
        self._archive: dict[str, tuple[datetime, int, Event]] = {}
        self.retention = retention
        self._arrivals = itertools.count()

    async def load(self, site_id: str) -> SiteRecord:
        return self._records.get(site_id) or SiteRecord.empty(site_id)

    async def save(self, record: SiteRecord, expected_version: int) -> None:
        stored = self._records.get(record.site_id)
        version = 0 if stored is None else stored.version
        newest = record.recent[-1] if record.recent else None
        if version != expected_version or (
            stored is not None and newest is not None and stored.has_applied(newest)
        ):
            raise WriteConflict(record.site_id)
        self._records[record.site_id] = record

    async def archive(self, event: Event) -> bool:
        event_id = str(event.event_id)
        if event_id in self._archive:
            return False
        self._archive[event_id] = (event.occurred_at, next(self._arrivals), event)
        self._forget_older_than(event.occurred_at)
        return True

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
