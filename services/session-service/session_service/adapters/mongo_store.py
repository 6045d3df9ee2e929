"""Sessions and transcripts in MongoDB (production): one document per session, one per message."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from livechat_shared.contracts import ChatMessagePosted
from pymongo import ASCENDING, DESCENDING, InsertOne, UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError

from session_service.adapters import mongo_documents as docs
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


def _saved(
    stored: StoredSession, session: Session, outcome: Outcome
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The conditional update that saves a session's decision: its filter and its change."""
    return (
        {"_id": str(session.session_id), "site_id": session.site_id, "version": stored.version},
        {
            "$set": {
                "status": session.status,
                "ended_at": session.ended_at,
                "ended_by": session.ended_by,
                "visitor_gone_since": session.visitor_gone_since,
                "version": stored.version + 1,
            },
            "$push": {
                "outcomes": {
                    "$each": [{"message_id": outcome.message_id, "events": outcome.events}],
                    "$slice": -OUTCOMES_KEPT,
                }
            },
        },
    )


SESSIONS = "sessions"
_DUPLICATE_KEY = 11000
MESSAGES = "messages"
_LATEST_FIRST = [("started_at", DESCENDING), ("_id", DESCENDING)]
_NEWEST_FIRST = [("posted_at", DESCENDING), ("seq", DESCENDING), ("session_id", DESCENDING)]


class MongoSessionStore:
    """`database` is a pymongo AsyncDatabase (or anything with the same async surface)."""

    def __init__(self, database: Any, close: Callable[[], Awaitable[None]] | None = None) -> None:
        self._sessions = database[SESSIONS]
        self._messages = database[MESSAGES]
        self._close = close

    async def ensure_indexes(self) -> None:
        await self._sessions.create_index(
            [("site_id", ASCENDING), ("visitor_id", ASCENDING), ("started_at", DESCENDING)],
            name="site_visitor",
        )
        await self._sessions.create_index(
            [("site_id", ASCENDING), ("operator_id", ASCENDING), ("status", ASCENDING)],
            name="site_operator_status",
        )
        await self._sessions.create_index(
            [("status", ASCENDING), ("site_id", ASCENDING)], name="status_site"
        )
        # The transcript's two guarantees: one message per number, one per client message id.
        await self._messages.create_index(
            [("site_id", ASCENDING), ("session_id", ASCENDING), ("seq", ASCENDING)],
            unique=True,
            name="session_seq",
        )
        await self._messages.create_index(
            [("site_id", ASCENDING), ("session_id", ASCENDING), ("client_message_id", ASCENDING)],
            unique=True,
            name="session_client_message",
        )
        await self._messages.create_index(
            [("site_id", ASCENDING), ("session_id", ASCENDING), ("posted_at", DESCENDING)],
            name="session_posted",
        )

    async def add(self, session: Session) -> bool:
        try:
            await self._sessions.insert_one(
                {**docs.session_doc(session), "version": 1, "outcomes": []}
            )
        except DuplicateKeyError:
            return False
        return True

    async def get(self, site_id: str, session_id: uuid.UUID) -> StoredSession | None:
        doc = await self._sessions.find_one({"_id": str(session_id), "site_id": site_id})
        return None if doc is None else docs.stored(doc)

    async def visitor_session(self, site_id: str, visitor_id: str) -> StoredSession | None:
        theirs = {"site_id": site_id, "visitor_id": visitor_id}
        doc = await self._sessions.find_one(
            {**theirs, "status": {"$in": list(OPEN)}}, sort=_LATEST_FIRST
        )
        if doc is None:
            doc = await self._sessions.find_one(theirs, sort=_LATEST_FIRST)
        return None if doc is None else docs.stored(doc)

    async def save(self, stored: StoredSession, session: Session, outcome: Outcome) -> None:
        result = await self._sessions.update_one(*_saved(stored, session, outcome))
        if result.matched_count == 0:
            raise StaleSession(str(session.session_id))

    async def write_batch(self, writes: Sequence[Write]) -> None:
        """The transcript first, then the sessions (last_seq raised after its messages, as
        append_message does): an ordered insert, then an ordered bulk write."""
        messages = [docs.message_doc(w.message) for w in writes if isinstance(w, Appended)]
        sessions: list[InsertOne[Any] | UpdateOne] = []
        expected = 0
        for write in writes:
            match write:
                case Added(session):
                    sessions.append(
                        InsertOne({**docs.session_doc(session), "version": 1, "outcomes": []})
                    )
                case Saved(stored, session, outcome):
                    sessions.append(UpdateOne(*_saved(stored, session, outcome)))
                    expected += 1
                case Appended(message):
                    sessions.append(
                        UpdateOne(
                            {"_id": str(message.session_id), "site_id": message.site_id},
                            {"$max": {"last_seq": message.seq}},
                        )
                    )
                    expected += 1  # its session is stored: an update matches it
        try:
            if messages:
                await self._messages.insert_many(messages, ordered=True)
            if sessions:
                result = await self._sessions.bulk_write(sessions, ordered=True)
        except BulkWriteError as error:
            if any(e.get("code") != _DUPLICATE_KEY for e in error.details.get("writeErrors", [])):
                raise
            # A number or client id taken, or a session stored already: decided one by one.
            raise StaleSession(f"the batch conflicts with what is stored: {error}") from error
        if sessions and result.matched_count < expected:  # each update matches one session
            raise StaleSession("a session changed since the batch read it")

    async def append_message(self, message: ChatMessagePosted) -> None:
        try:
            await self._messages.insert_one(docs.message_doc(message))
        except DuplicateKeyError as error:
            taken = await self.find_message(
                message.site_id, message.session_id, message.client_message_id
            )
            if taken is not None:
                raise DuplicateMessage(message.client_message_id) from error
            raise SequenceTaken(str(message.seq)) from error
        # A crash right here leaves last_seq behind the transcript; the next append then
        # meets SequenceTaken and the handler decides again on highest_seq.
        await self._sessions.update_one(
            {"_id": str(message.session_id), "site_id": message.site_id},
            {"$max": {"last_seq": message.seq}},
        )

    async def find_message(
        self, site_id: str, session_id: uuid.UUID, client_message_id: str
    ) -> ChatMessagePosted | None:
        doc = await self._messages.find_one(
            {
                "site_id": site_id,
                "session_id": str(session_id),
                "client_message_id": client_message_id,
            }
        )
        return None if doc is None else docs.message(doc)

    async def highest_seq(self, site_id: str, session_id: uuid.UUID) -> int:
        doc = await self._messages.find_one(
            {"site_id": site_id, "session_id": str(session_id)}, sort=[("seq", DESCENDING)]
        )
        return 0 if doc is None else int(doc["seq"])

    async def messages(
        self, site_id: str, session_id: uuid.UUID, after_seq: int, limit: int
    ) -> list[ChatMessagePosted]:
        if limit <= 0:
            return []  # Mongo reads a limit of 0 as "no limit"
        cursor = (
            self._messages.find(
                {"site_id": site_id, "session_id": str(session_id), "seq": {"$gt": after_seq}}
            )
            .sort([("seq", ASCENDING)])
            .limit(limit)
        )
        return [docs.message(doc) async for doc in cursor]

    async def operator_sessions(self, site_id: str, operator_id: str) -> list[Session]:
        cursor = self._sessions.find(
            {"site_id": site_id, "operator_id": operator_id, "status": {"$in": list(OPEN)}}
        ).sort([("started_at", ASCENDING), ("_id", ASCENDING)])
        return [docs.stored(doc).session async for doc in cursor]

    async def latest_messages(
        self, site_id: str, session_ids: Sequence[uuid.UUID], offset: int, limit: int
    ) -> tuple[int, list[ChatMessagePosted]]:
        if not session_ids:
            return 0, []
        query = {"site_id": site_id, "session_id": {"$in": sorted({str(s) for s in session_ids})}}
        total = int(await self._messages.count_documents(query))
        if limit <= 0:
            return total, []
        cursor = self._messages.find(query).sort(_NEWEST_FIRST).skip(offset).limit(limit)
        return total, [docs.message(doc) async for doc in cursor]

    async def count_open(self, site_id: str | None = None) -> Mapping[tuple[str, Status], int]:
        match: dict[str, Any] = {"status": {"$in": list(OPEN)}}
        if site_id is not None:
            match["site_id"] = site_id
        cursor = await self._sessions.aggregate(
            [
                {"$match": match},
                {"$group": {"_id": {"site": "$site_id", "status": "$status"}, "n": {"$sum": 1}}},
            ]
        )
        return {(row["_id"]["site"], row["_id"]["status"]): int(row["n"]) async for row in cursor}

    async def visitor_gone_sessions(self) -> list[Session]:
        cursor = self._sessions.find(
            {"status": {"$in": list(OPEN)}, "visitor_gone_since": {"$ne": None}}
        )
        return [docs.stored(doc).session async for doc in cursor]

    async def close(self) -> None:
        if self._close is not None:
            await self._close()
