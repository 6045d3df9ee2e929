"""The summary store in the embedded SQLite file (`make run`, no MONGO_URL): survives restarts.

Like MongoDB: one row per site (state as the same document, in JSON) and one per archived
event. The archive's rowid is the order events were archived in, so replays need no clock.

Alone on its file (the default), what this process last wrote is what the file holds: the site
records and the archived event ids are also kept in memory, and a batch of events costs one
transaction and no reads (at 1,000 events/s each read, and each write per event, was a trip to
the store's thread). The ids are one small string per archived event, as the queue manager's
journal keeps one offset per entry; the archive's retention (`prune`) bounds both.

Shared with the other partitioned replicas (`shared`, REPLICAS > 1), another process writes the
sites it consumes, and takes over ours when we die or hand a partition back: nothing is kept in
memory then. A site is read from the file each time (a batch: once per site it touches), and
which events are archived is asked of the file inside the write's transaction, so both the
projector's writes (guarded by the record's version) and the HTTP reads of any replica see
what the others committed.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator, Collection, Sequence
from datetime import datetime, timedelta
from pathlib import Path

from livechat_shared.contracts import Event, parse_message
from livechat_shared.runtime.embedded import EmbeddedDatabase, to_micros

from summary_projector.adapters.documents import decode_state, encode_state
from summary_projector.ports import Save, SiteRecord, WriteConflict

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
    def __init__(
        self, path: Path, retention: timedelta | None = None, shared: bool = False
    ) -> None:
        # NORMAL, not FULL: the projector takes every event of every service (1,000/s in the
        # bench), and two fsyncs per event held it to 140-960 events/s here (NORMAL: 610-1,240).
        # A process crash still loses nothing; a power cut or OS crash may lose the last
        # events since the WAL's last checkpoint (the other stores fsync each commit).
        self.database = EmbeddedDatabase(path, SCHEMA, synchronous="NORMAL", shared=shared)
        self.shared = shared
        self._records: dict[str, SiteRecord] = {}
        self._archived: set[str] | None = None  # read on first use, inside the event loop
        self.retention = retention
        self._pruned_at: datetime | None = None

    async def load(self, site_id: str) -> SiteRecord:
        if self.shared:
            return await self._read(site_id)
        cached = self._records.get(site_id)
        if cached is not None:
            return cached
        record = await self._read(site_id)
        current = self._records.get(site_id)
        if current is None or current.version < record.version:
            self._records[site_id] = record  # never over a newer one saved meanwhile
        return record

    async def _read(self, site_id: str) -> SiteRecord:
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

    async def commit(self, saves: Sequence[Save], events: Sequence[Event]) -> set[str]:
        archived = set() if self.shared else await self._archived_ids()
        rows: dict[str, tuple[str, str, str, int, str]] = {}
        for event in events:
            event_id = str(event.event_id)
            if event_id not in archived and event_id not in rows:
                rows[event_id] = (
                    event_id,
                    event.site_id,
                    event.type_name(),
                    to_micros(event.occurred_at),
                    event.model_dump_json(),
                )
        bodies = [
            (
                save.record.site_id,
                save.record.version,
                json.dumps(list(save.record.recent)),
                json.dumps(encode_state(save.record.state)),
                save.expected_version,
                save.record.recent[-1] if save.record.recent else None,
                save.check_only,
            )
            for save in saves
        ]
        if not bodies and not rows:
            return set()

        def store(db: sqlite3.Connection) -> dict[str, tuple[str, str, str, int, str]]:
            for site_id, version, recent, state, expected, newest, check_only in bodies:
                row = db.execute(
                    "SELECT version, recent FROM communication_summary WHERE site_id = ?",
                    (site_id,),
                ).fetchone()
                stored = 0 if row is None else int(row[0])
                if check_only:
                    if stored != expected:
                        raise WriteConflict(site_id)
                    continue
                if stored != expected or (
                    row is not None and newest is not None and newest in json.loads(row[1])
                ):
                    raise WriteConflict(site_id)  # the whole transaction is rolled back
                db.execute(
                    "INSERT INTO communication_summary (site_id, version, recent, state) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT (site_id) DO UPDATE SET "
                    "version = excluded.version, recent = excluded.recent, state = excluded.state",
                    (site_id, version, recent, state),
                )
            new = rows
            if self.shared:  # another replica may have archived some (before a takeover)
                there = _archived_in(db, list(rows))
                new = {event_id: row for event_id, row in rows.items() if event_id not in there}
            db.executemany(
                "INSERT OR IGNORE INTO event_archive (event_id, site_id, type, occurred_us, event) "
                "VALUES (?, ?, ?, ?, ?)",
                list(new.values()),
            )
            return new

        try:
            newly = await self.database.write(store)
        except BaseException:
            for save in saves:  # read again what the file holds
                self._records.pop(save.record.site_id, None)
            raise
        if not self.shared:
            for save in saves:
                if not save.check_only:
                    self._records[save.record.site_id] = save.record
            archived.update(newly)
        if events:
            await self._keep_retention(max(e.occurred_at for e in events))
        return set(newly)

    async def save(self, record: SiteRecord, expected_version: int) -> None:
        await self.commit([Save(record, expected_version)], [])

    async def archive(self, event: Event) -> bool:
        return bool(await self.commit([], [event]))

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
        return bool(await self.archived_among([event_id]))

    async def archived_among(self, event_ids: Collection[str]) -> set[str]:
        if self.shared:
            ids = list(event_ids)
            return await self.database.read(lambda db: _archived_in(db, ids))
        archived = await self._archived_ids()
        return {event_id for event_id in event_ids if event_id in archived}

    async def _archived_ids(self) -> set[str]:
        if self._archived is None:
            rows = await self.database.read(
                lambda db: db.execute("SELECT event_id FROM event_archive").fetchall()
            )
            self._archived = {row[0] for row in rows}
        return self._archived

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
        self._records.clear()

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

        def forget(db: sqlite3.Connection) -> list[str]:
            deleted = db.execute(
                "DELETE FROM event_archive WHERE occurred_us < ? RETURNING event_id", (cutoff,)
            )
            return [row[0] for row in deleted.fetchall()]

        forgotten = await self.database.write(forget)
        if not self.shared:
            (await self._archived_ids()).difference_update(forgotten)
        return len(forgotten)

    async def close(self) -> None:
        await self.database.close()

    async def _any(self, table: str) -> bool:
        row = await self.database.read(
            lambda db: db.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone()
        )
        return row is not None


def _archived_in(db: sqlite3.Connection, event_ids: list[str]) -> set[str]:
    """Which of the ids the archive holds (read in slices: SQLite bounds a query's parameters)."""
    found: set[str] = set()
    for start in range(0, len(event_ids), 500):
        part = event_ids[start : start + 500]
        marks = ", ".join("?" for _ in part)
        rows = db.execute(
            f"SELECT event_id FROM event_archive WHERE event_id IN ({marks})", part
        ).fetchall()
        found.update(row[0] for row in rows)
    return found
