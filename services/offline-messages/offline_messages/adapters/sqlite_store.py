"""The Message Queue in the embedded SQLite file (`make run`, no MONGO_URL): survives restarts.

One row per offline message, its recent outcomes as JSON in the same row. Next message reads
the oldest waiting row and claims it in one `BEGIN IMMEDIATE` transaction, which takes the
file's write lock first: no other claim can read the same row as waiting in between.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from livechat_shared.runtime.embedded import EmbeddedDatabase, from_micros, to_micros

from offline_messages.domain import WAITING, OfflineMessage, Status, taken
from offline_messages.ports import (
    OUTCOMES_KEPT,
    DuplicateTake,
    Outcome,
    StaleMessage,
    StoredMessage,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS offline_messages (
    offline_message_id TEXT PRIMARY KEY,
    site_id TEXT NOT NULL,
    visitor_id TEXT NOT NULL,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    text TEXT NOT NULL,
    left_us INTEGER NOT NULL,
    status TEXT NOT NULL,
    operator_id TEXT,
    reply TEXT,
    taken_us INTEGER,
    take_command_id TEXT UNIQUE,
    version INTEGER NOT NULL,
    outcomes TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS site_status_left_at
    ON offline_messages (site_id, status, left_us, offline_message_id);
"""

_COLUMNS = (
    "offline_message_id, site_id, visitor_id, name, email, text, left_us, status, operator_id, "
    "reply, taken_us, take_command_id, version, outcomes"
)
_OLDEST_FIRST = "ORDER BY left_us, offline_message_id"


class SqliteMessageStore:
    def __init__(self, path: Path, shared: bool = False) -> None:
        # Nothing of the file is kept in memory: `shared`, other replicas write it too.
        self.database = EmbeddedDatabase(path, SCHEMA, shared=shared)

    async def add(self, message: OfflineMessage) -> bool:
        def insert(db: sqlite3.Connection) -> bool:
            inserted = db.execute(
                f"INSERT OR IGNORE INTO offline_messages ({_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, '[]')",
                (
                    str(message.offline_message_id),
                    message.site_id,
                    message.visitor_id,
                    message.name,
                    message.email,
                    message.text,
                    to_micros(message.left_at),
                    message.status,
                    message.operator_id,
                    message.reply,
                    None if message.taken_at is None else to_micros(message.taken_at),
                    None if message.taken_by_command is None else str(message.taken_by_command),
                ),
            )
            return inserted.rowcount == 1

        return await self.database.write(insert)

    async def get(self, site_id: str, offline_message_id: uuid.UUID) -> StoredMessage | None:
        found = await self._select(
            "WHERE offline_message_id = ? AND site_id = ?", (str(offline_message_id), site_id)
        )
        return found[0] if found else None

    async def take_next(
        self, site_id: str, operator_id: str, command_id: uuid.UUID, now: datetime
    ) -> OfflineMessage | None:
        def claim(db: sqlite3.Connection) -> OfflineMessage | None:
            if db.execute(
                "SELECT 1 FROM offline_messages WHERE take_command_id = ?", (str(command_id),)
            ).fetchone():
                raise DuplicateTake(str(command_id))
            row = db.execute(
                f"SELECT {_COLUMNS} FROM offline_messages WHERE site_id = ? AND status = ? "
                f"{_OLDEST_FIRST} LIMIT 1",
                (site_id, WAITING),
            ).fetchone()
            if row is None:
                return None
            message = taken(_stored(row).message, operator_id, command_id, now)
            db.execute(
                "UPDATE offline_messages SET status = ?, operator_id = ?, taken_us = ?, "
                "take_command_id = ?, version = version + 1 WHERE offline_message_id = ?",
                (
                    message.status,
                    operator_id,
                    to_micros(now),
                    str(command_id),
                    str(message.offline_message_id),
                ),
            )
            return message

        return await self.database.write(claim)

    async def taken_by(self, site_id: str, command_id: uuid.UUID) -> OfflineMessage | None:
        found = await self._select(
            "WHERE take_command_id = ? AND site_id = ?", (str(command_id), site_id)
        )
        return found[0].message if found else None

    async def save(self, stored: StoredMessage, message: OfflineMessage, outcome: Outcome) -> None:
        key = (str(stored.message.offline_message_id), stored.version)

        def update(db: sqlite3.Connection) -> None:
            row = db.execute(
                "SELECT outcomes FROM offline_messages WHERE offline_message_id = ? "
                "AND version = ?",
                key,
            ).fetchone()
            if row is None:
                raise StaleMessage(key[0])
            entry = {"command_id": outcome.command_id, "events": outcome.events}
            outcomes = [*json.loads(row[0]), entry][-OUTCOMES_KEPT:]
            # Only what a reply or close changes; the rest stays as stored.
            db.execute(
                "UPDATE offline_messages SET status = ?, operator_id = ?, reply = ?, "
                "version = version + 1, outcomes = ? WHERE offline_message_id = ? AND version = ?",
                (message.status, message.operator_id, message.reply, json.dumps(outcomes), *key),
            )

        await self.database.write(update)

    async def messages(
        self, site_id: str, statuses: Sequence[Status], limit: int
    ) -> list[OfflineMessage]:
        if not statuses:
            return []
        marks = ", ".join("?" for _ in statuses)
        found = await self._select(
            f"WHERE site_id = ? AND status IN ({marks}) {_OLDEST_FIRST} LIMIT ?",
            (site_id, *statuses, max(limit, 0)),
        )
        return [stored.message for stored in found]

    async def count_waiting(self, site_id: str | None = None) -> Mapping[str, int]:
        where, parameters = "WHERE status = ?", [str(WAITING)]
        if site_id is not None:
            where, parameters = f"{where} AND site_id = ?", [WAITING, site_id]
        rows = await self.database.read(
            lambda db: db.execute(
                f"SELECT site_id, COUNT(*) FROM offline_messages {where} GROUP BY site_id",
                parameters,
            ).fetchall()
        )
        return {site: int(n) for site, n in rows}

    async def close(self) -> None:
        await self.database.close()

    async def _select(self, where: str, parameters: tuple[Any, ...]) -> list[StoredMessage]:
        rows = await self.database.read(
            lambda db: db.execute(
                f"SELECT {_COLUMNS} FROM offline_messages {where}", parameters
            ).fetchall()
        )
        return [_stored(row) for row in rows]


def _stored(row: tuple[Any, ...]) -> StoredMessage:
    (mid, site, visitor, name, email, text, left, status, operator, reply, taken_us, command) = row[
        :12
    ]
    message = OfflineMessage(
        offline_message_id=uuid.UUID(mid),
        site_id=site,
        visitor_id=visitor,
        name=name,
        email=email,
        text=text,
        left_at=from_micros(left),
        status=status,
        operator_id=operator,
        reply=reply,
        taken_at=None if taken_us is None else from_micros(taken_us),
        taken_by_command=None if command is None else uuid.UUID(command),
    )
    outcomes = tuple(Outcome(o["command_id"], o["events"]) for o in json.loads(row[13]))
    return StoredMessage(message, version=int(row[12]), outcomes=outcomes)
