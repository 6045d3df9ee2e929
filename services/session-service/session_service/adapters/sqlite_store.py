"""Sessions and transcripts in the embedded SQLite file (`make run`, no MONGO_URL): survives restarts.

The same layout as in MongoDB: one row per session (its recent outcomes as JSON in that row, so
they are written with the change they record), one row per transcript message. Instants are
kept as microseconds since the epoch.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from livechat_shared.contracts import Channel, ChatMessagePosted
from livechat_shared.runtime.embedded import EmbeddedDatabase, from_micros, to_micros

from session_service.domain import OPEN, Session, Status
from session_service.ports import (
    OUTCOMES_KEPT,
    Added,
    Appended,
    DuplicateMessage,
    Outcome,
    Saved,
    SequenceTaken,
    StaleSession,
    StoredSession,
    Write,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    session_id TEXT PRIMARY KEY,
    site_id TEXT NOT NULL,
    visitor_id TEXT NOT NULL,
    operator_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    status TEXT NOT NULL,
    started_us INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    ended_us INTEGER,
    ended_by TEXT,
    visitor_gone_us INTEGER,
    version INTEGER NOT NULL,
    outcomes TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS site_visitor ON sessions (site_id, visitor_id, started_us);
CREATE INDEX IF NOT EXISTS site_operator_status ON sessions (site_id, operator_id, status);
CREATE INDEX IF NOT EXISTS status_site ON sessions (status, site_id);
CREATE TABLE IF NOT EXISTS messages (
    event_id TEXT PRIMARY KEY,
    site_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    client_message_id TEXT NOT NULL,
    posted_us INTEGER NOT NULL,
    message TEXT NOT NULL,
    UNIQUE (site_id, session_id, seq),
    UNIQUE (site_id, session_id, client_message_id)
);
CREATE INDEX IF NOT EXISTS session_posted ON messages (site_id, session_id, posted_us);
"""

_COLUMNS = (
    "session_id, site_id, visitor_id, operator_id, channel, status, started_us, last_seq, "
    "ended_us, ended_by, visitor_gone_us, version, outcomes"
)
_OPEN = tuple(OPEN)
_OPEN_MARKS = ", ".join("?" for _ in _OPEN)


class SqliteSessionStore:
    def __init__(self, path: Path, shared: bool = False) -> None:
        # Nothing of the file is kept in memory: `shared`, other replicas write it too.
        self.database = EmbeddedDatabase(path, SCHEMA, shared=shared)

    async def add(self, session: Session) -> bool:
        return await self.database.write(lambda db: _insert(db, session))

    async def write_batch(self, writes: Sequence[Write]) -> None:
        def store(db: sqlite3.Connection) -> None:
            for write in writes:
                match write:
                    case Added(session):
                        if not _insert(db, session):
                            raise StaleSession(str(session.session_id))
                    case Saved(stored, session, outcome):
                        _update(db, stored, session, outcome)
                    case Appended(message):
                        _append(db, message)

        await self.database.write(store)  # one transaction: rolled back if any write raises

    async def get(self, site_id: str, session_id: uuid.UUID) -> StoredSession | None:
        return await self._one("WHERE session_id = ? AND site_id = ?", (str(session_id), site_id))

    async def visitor_session(self, site_id: str, visitor_id: str) -> StoredSession | None:
        latest = "ORDER BY started_us DESC, session_id DESC LIMIT 1"
        theirs = "WHERE site_id = ? AND visitor_id = ?"
        found = await self._one(
            f"{theirs} AND status IN ({_OPEN_MARKS}) {latest}", (site_id, visitor_id, *_OPEN)
        )
        return found or await self._one(f"{theirs} {latest}", (site_id, visitor_id))

    async def save(self, stored: StoredSession, session: Session, outcome: Outcome) -> None:
        await self.database.write(lambda db: _update(db, stored, session, outcome))

    async def append_message(self, message: ChatMessagePosted) -> None:
        await self.database.write(lambda db: _append(db, message))

    async def find_message(
        self, site_id: str, session_id: uuid.UUID, client_message_id: str
    ) -> ChatMessagePosted | None:
        found = await self._messages(
            "WHERE site_id = ? AND session_id = ? AND client_message_id = ?",
            (site_id, str(session_id), client_message_id),
        )
        return found[0] if found else None

    async def highest_seq(self, site_id: str, session_id: uuid.UUID) -> int:
        row = await self.database.read(
            lambda db: db.execute(
                "SELECT MAX(seq) FROM messages WHERE site_id = ? AND session_id = ?",
                (site_id, str(session_id)),
            ).fetchone()
        )
        return int(row[0] or 0)

    async def messages(
        self, site_id: str, session_id: uuid.UUID, after_seq: int, limit: int
    ) -> list[ChatMessagePosted]:
        return await self._messages(
            "WHERE site_id = ? AND session_id = ? AND seq > ? ORDER BY seq LIMIT ?",
            (site_id, str(session_id), after_seq, max(limit, 0)),
        )

    async def operator_sessions(self, site_id: str, operator_id: str) -> list[Session]:
        found = await self._sessions(
            f"WHERE site_id = ? AND operator_id = ? AND status IN ({_OPEN_MARKS}) "
            "ORDER BY started_us, session_id",
            (site_id, operator_id, *_OPEN),
        )
        return [stored.session for stored in found]

    async def visitor_gone_sessions(self) -> list[Session]:
        found = await self._sessions(
            f"WHERE status IN ({_OPEN_MARKS}) AND visitor_gone_us IS NOT NULL",
            tuple(_OPEN),
        )
        return [stored.session for stored in found]

    async def latest_messages(
        self, site_id: str, session_ids: Sequence[uuid.UUID], offset: int, limit: int
    ) -> tuple[int, list[ChatMessagePosted]]:
        ids = sorted({str(s) for s in session_ids})
        if not ids:
            return 0, []
        theirs = f"WHERE site_id = ? AND session_id IN ({', '.join('?' for _ in ids)})"
        row = await self.database.read(
            lambda db: db.execute(
                f"SELECT COUNT(*) FROM messages {theirs}", (site_id, *ids)
            ).fetchone()
        )
        page = await self._messages(
            f"{theirs} ORDER BY posted_us DESC, seq DESC, session_id DESC LIMIT ? OFFSET ?",
            (site_id, *ids, max(limit, 0), offset),
        )
        return int(row[0]), page

    async def count_open(self, site_id: str | None = None) -> Mapping[tuple[str, Status], int]:
        where = f"WHERE status IN ({_OPEN_MARKS})"
        parameters: tuple[str, ...] = _OPEN
        if site_id is not None:
            where, parameters = f"{where} AND site_id = ?", (*_OPEN, site_id)
        rows = await self.database.read(
            lambda db: db.execute(
                f"SELECT site_id, status, COUNT(*) FROM sessions {where} GROUP BY site_id, status",
                parameters,
            ).fetchall()
        )
        return {(site, status): int(n) for site, status, n in rows}

    async def close(self) -> None:
        await self.database.close()

    async def _one(self, where: str, parameters: tuple[Any, ...]) -> StoredSession | None:
        found = await self._sessions(where, parameters)
        return found[0] if found else None

    async def _sessions(self, where: str, parameters: tuple[Any, ...]) -> list[StoredSession]:
        rows = await self.database.read(
            lambda db: db.execute(f"SELECT {_COLUMNS} FROM sessions {where}", parameters).fetchall()
        )
        return [_stored(row) for row in rows]

    async def _messages(self, where: str, parameters: tuple[Any, ...]) -> list[ChatMessagePosted]:
        rows = await self.database.read(
            lambda db: db.execute(f"SELECT message FROM messages {where}", parameters).fetchall()
        )
        return [ChatMessagePosted.model_validate_json(row[0]) for row in rows]


def _insert(db: sqlite3.Connection, session: Session) -> bool:
    inserted = db.execute(
        f"INSERT OR IGNORE INTO sessions ({_COLUMNS}) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, '[]')",
        (
            str(session.session_id),
            session.site_id,
            session.visitor_id,
            session.operator_id,
            session.channel.value,
            session.status,
            to_micros(session.started_at),
            session.last_seq,
            _micros_or_none(session.ended_at),
            session.ended_by,
            _micros_or_none(session.visitor_gone_since),
        ),
    )
    return inserted.rowcount == 1


def _update(
    db: sqlite3.Connection, stored: StoredSession, session: Session, outcome: Outcome
) -> None:
    key = (str(session.session_id), session.site_id, stored.version)
    row = db.execute(
        "SELECT outcomes FROM sessions WHERE session_id = ? AND site_id = ? AND version = ?",
        key,
    ).fetchone()
    if row is None:
        raise StaleSession(str(session.session_id))
    entry = {"message_id": outcome.message_id, "events": outcome.events}
    outcomes = [*json.loads(row[0]), entry][-OUTCOMES_KEPT:]
    db.execute(
        "UPDATE sessions SET status = ?, ended_us = ?, ended_by = ?, "
        "visitor_gone_us = ?, version = ?, outcomes = ? "
        "WHERE session_id = ? AND site_id = ? AND version = ?",
        (
            session.status,
            _micros_or_none(session.ended_at),
            session.ended_by,
            _micros_or_none(session.visitor_gone_since),
            stored.version + 1,
            json.dumps(outcomes),
            *key,
        ),
    )


def _append(db: sqlite3.Connection, message: ChatMessagePosted) -> None:
    session_key = (message.site_id, str(message.session_id))
    taken = db.execute(
        "SELECT client_message_id = ? FROM messages WHERE site_id = ? AND session_id = ? "
        "AND (client_message_id = ? OR seq = ?) ORDER BY 1 DESC LIMIT 1",
        (message.client_message_id, *session_key, message.client_message_id, message.seq),
    ).fetchone()
    if taken is not None:
        if taken[0]:
            raise DuplicateMessage(message.client_message_id)
        raise SequenceTaken(str(message.seq))
    db.execute(
        "INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            str(message.event_id),
            *session_key,
            message.seq,
            message.client_message_id,
            to_micros(message.occurred_at),
            message.model_dump_json(),
        ),
    )
    # In the same transaction: the session's last_seq never lags its transcript here.
    db.execute(
        "UPDATE sessions SET last_seq = MAX(last_seq, ?) WHERE site_id = ? AND session_id = ?",
        (message.seq, *session_key),
    )


def _stored(row: tuple[Any, ...]) -> StoredSession:
    (sid, site, visitor, operator, channel, status, started, last_seq, ended, ended_by, gone) = row[
        :11
    ]
    session = Session(
        session_id=uuid.UUID(sid),
        site_id=site,
        visitor_id=visitor,
        operator_id=operator,
        channel=Channel(channel),
        started_at=from_micros(started),
        status=status,
        last_seq=int(last_seq),
        ended_at=None if ended is None else from_micros(ended),
        ended_by=ended_by,
        visitor_gone_since=None if gone is None else from_micros(gone),
    )
    outcomes = tuple(Outcome(o["message_id"], list(o["events"])) for o in json.loads(row[12]))
    return StoredSession(session, version=int(row[11]), outcomes=outcomes)


def _micros_or_none(moment: Any) -> int | None:
    return None if moment is None else to_micros(moment)
