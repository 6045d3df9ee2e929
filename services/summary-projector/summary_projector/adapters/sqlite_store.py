"""The summary store in the embedded SQLite file (`make run`, no MONGO_URL): survives restarts.

Like MongoDB: one row per site (state as the same document, in JSON) and one per archived
event. The archive's rowid is the order events were archived in, so replays need no clock.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

from livechat_shared.contracts import Event, parse_message
from livechat_shared.runtime.embedded import EmbeddedDatabase, to_micros

from summary_projector.adapters.documents import decode_state, encode_state
from summary_projector.ports import SiteRecord, WriteConflict

SCHEMA = """
CREATE TABLE IF NOT EXISTS communication_summary (
    site_id TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    recent TEXT NOT NULL,
    state TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS event_archive (
    arrival INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    site_id TEXT NOT NULL,
    type TEXT NOT NULL,
    occurred_us INTEGER NOT NULL,
    event TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS replay_order ON event_archive (occurred_us, arrival);
"""

REPLAY_BATCH = 500
"""Archived events read per round trip to the store's thread while replaying."""


PRUNE_EVERY = timedelta(minutes=1)
"""How far the archive's newest event moves before the events past retention are deleted."""


class SqliteSummaryStore:
    def __init__(self, path: Path, retention: timedelta | None = None) -> None:
        self.database = EmbeddedDatabase(path, SCHEMA)
        self.retention = retention
        self._pruned_at: datetime | None = None

    async def load(self, site_id: str) -> SiteRecord:
        row = await self.database.read(
            lambda db: db.execute(
                "SELECT version, recent, state FROM communication_summary WHERE site_id = ?",
                (site_id,),
            ).fetchone()
        )
        if row is None:
            return SiteRecord.empty(site_id)
        version, recent, state = row
        return SiteRecord(
            decode_state(site_id, json.loads(state)), int(version), tuple(json.loads(recent))
        )

    async def save(self, record: SiteRecord, expected_version: int) -> None:
        body = (
            record.version,
            json.dumps(list(record.recent)),
            json.dumps(encode_state(record.state)),
        )
        newest = record.recent[-1] if record.recent else None

        def store(db: sqlite3.Connection) -> None:
            row = db.execute(
                "SELECT version, recent FROM communication_summary WHERE site_id = ?",
                (record.site_id,),
            ).fetchone()
            version = 0 if row is None else int(row[0])
            if version != expected_version or (
                row is not None and newest is not None and newest in json.loads(row[1])
            ):
                raise WriteConflict(record.site_id)
            db.execute(
                "INSERT INTO communication_summary (site_id, version, recent, state) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (site_id) DO UPDATE SET "
                "version = excluded.version, recent = excluded.recent, state = excluded.state",
                (record.site_id, *body),
            )

        await self.database.write(store)

    async def archive(self, event: Event) -> bool:
        values = (
            str(event.event_id),
            event.site_id,
            event.type_name(),
            to_micros(event.occurred_at),
            event.model_dump_json(),
        )

        def insert(db: sqlite3.Connection) -> bool:
            inserted = db.execute(
                "INSERT OR IGNORE INTO event_archive (event_id, site_id, type, occurred_us, event) "
                "VALUES (?, ?, ?, ?, ?)",
                values,
            )
            return inserted.rowcount == 1

        archived = await self.database.write(insert)
        await self._keep_retention(event.occurred_at)
        return archived

    async def _keep_retention(self, newest: datetime) -> None:
        """Retention as MongoDB's TTL index keeps it, measured from the newest event (no clock),
        pruned once a minute of event time rather than on every write."""
        if self.retention is None:
            return
        if self._pruned_at is not None and newest - self._pruned_at < PRUNE_EVERY:
            return
        self._pruned_at = newest
        await self.prune(newest - self.retention)

    async def is_archived(self, event_id: str) -> bool:
        row = await self.database.read(
            lambda db: db.execute(
                "SELECT 1 FROM event_archive WHERE event_id = ?", (event_id,)
            ).fetchone()
        )
        return row is not None

    async def replay(self) -> AsyncIterator[Event]:
        after: tuple[int, int] = (-(2**62), 0)

        def batch(db: sqlite3.Connection) -> list[tuple[int, int, str]]:
            return db.execute(
                "SELECT occurred_us, arrival, event FROM event_archive "
                "WHERE (occurred_us, arrival) > (?, ?) ORDER BY occurred_us, arrival LIMIT ?",
                (*after, REPLAY_BATCH),
            ).fetchall()

        while True:
            rows = await self.database.read(batch)
            for _, _, raw in rows:
                event = parse_message(json.loads(raw))
                assert isinstance(event, Event)
                yield event
            if len(rows) < REPLAY_BATCH:
                return
            after = (int(rows[-1][0]), int(rows[-1][1]))

    async def drop_summaries(self) -> None:
        await self.database.write(lambda db: db.execute("DELETE FROM communication_summary"))

    async def has_summaries(self) -> bool:
        return await self._any("communication_summary")

    async def has_archive(self) -> bool:
        return await self._any("event_archive")

    async def prune(self, older_than: datetime) -> int:
        """Forget archived events that occurred before `older_than`; how many were forgotten.

        For the archive's retention: events older than any redelivery can be, and than any
        rebuild should replay. The summaries themselves are kept.
        """
        cutoff = to_micros(older_than)
        return await self.database.write(
            lambda db: (
                db.execute("DELETE FROM event_archive WHERE occurred_us < ?", (cutoff,)).rowcount
            )
        )

    async def close(self) -> None:
        await self.database.close()

    async def _any(self, table: str) -> bool:
        row = await self.database.read(
            lambda db: db.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone()
        )
        return row is not None
