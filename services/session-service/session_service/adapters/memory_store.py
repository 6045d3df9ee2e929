"""Sessions in memory: the fake the tests use (without MONGO_URL the service uses SQLite)."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace

from livechat_shared.contracts import ChatMessagePosted

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

TranscriptKey = tuple[str, uuid.UUID]


class MemorySessionStore:
    def __init__(self) -> None:
        self._sessions: dict[uuid.UUID, StoredSession] = {}
        self._transcripts: dict[TranscriptKey, list[ChatMessagePosted]] = {}

    async def add(self, session: Session) -> bool:
        if session.session_id in self._sessions:
            return False
        self._sessions[session.session_id] = StoredSession(session, version=1)
        return True

    async def write_batch(self, writes: Sequence[Write]) -> None:
        sessions = dict(self._sessions)
        transcripts = {key: list(messages) for key, messages in self._transcripts.items()}
        try:
            for write in writes:
                match write:
                    case Added(session):
                        if not await self.add(session):
                            raise StaleSession(str(session.session_id))
                    case Saved(stored, session, outcome):
                        await self.save(stored, session, outcome)
                    case Appended(message):
                        await self.append_message(message)
        except BaseException:
            self._sessions, self._transcripts = sessions, transcripts  # all or nothing
            raise

    async def get(self, site_id: str, session_id: uuid.UUID) -> StoredSession | None:
        stored = self._sessions.get(session_id)
        return stored if stored is not None and stored.session.site_id == site_id else None

    async def visitor_session(self, site_id: str, visitor_id: str) -> StoredSession | None:
        theirs = [
            s
            for s in self._sessions.values()
            if s.session.site_id == site_id and s.session.visitor_id == visitor_id
        ]
        pool = [s for s in theirs if s.session.is_open] or theirs
        return max(pool, key=lambda s: _started(s.session), default=None)

    async def save(self, stored: StoredSession, session: Session, outcome: Outcome) -> None:
        current = self._sessions.get(session.session_id)
        if current is None or current.version != stored.version:
            raise StaleSession(str(session.session_id))
        self._sessions[session.session_id] = StoredSession(
            replace(session, last_seq=current.session.last_seq),
            version=current.version + 1,
            outcomes=(*current.outcomes, outcome)[-OUTCOMES_KEPT:],
        )

    async def append_message(self, message: ChatMessagePosted) -> None:
        transcript = self._transcripts.setdefault((message.site_id, message.session_id), [])
        if any(m.client_message_id == message.client_message_id for m in transcript):
            raise DuplicateMessage(message.client_message_id)
        if any(m.seq == message.seq for m in transcript):
            raise SequenceTaken(str(message.seq))
        transcript.append(message)
        transcript.sort(key=lambda m: m.seq)
        stored = self._sessions.get(message.session_id)
        if stored is not None and stored.session.site_id == message.site_id:
            last_seq = max(stored.session.last_seq, message.seq)
            self._sessions[message.session_id] = replace(
                stored, session=replace(stored.session, last_seq=last_seq)
            )

    async def find_message(
        self, site_id: str, session_id: uuid.UUID, client_message_id: str
    ) -> ChatMessagePosted | None:
        transcript = self._transcripts.get((site_id, session_id), [])
        return next((m for m in transcript if m.client_message_id == client_message_id), None)

    async def highest_seq(self, site_id: str, session_id: uuid.UUID) -> int:
        return max((m.seq for m in self._transcripts.get((site_id, session_id), [])), default=0)

    async def messages(
        self, site_id: str, session_id: uuid.UUID, after_seq: int, limit: int
    ) -> list[ChatMessagePosted]:
        transcript = self._transcripts.get((site_id, session_id), [])
        return [m for m in transcript if m.seq > after_seq][: max(limit, 0)]

    async def operator_sessions(self, site_id: str, operator_id: str) -> list[Session]:
        theirs = [
            s.session
            for s in self._sessions.values()
            if s.session.site_id == site_id
            and s.session.operator_id == operator_id
            and s.session.is_open
        ]
        return sorted(theirs, key=_started)

    async def latest_messages(
        self, site_id: str, session_ids: Sequence[uuid.UUID], offset: int, limit: int
    ) -> tuple[int, list[ChatMessagePosted]]:
        found = [m for sid in set(session_ids) for m in self._transcripts.get((site_id, sid), [])]
        found.sort(key=lambda m: (m.occurred_at, m.seq, str(m.session_id)), reverse=True)
        return len(found), found[offset : offset + max(limit, 0)]

    async def count_open(self, site_id: str | None = None) -> Mapping[tuple[str, Status], int]:
        return Counter(
            (s.session.site_id, s.session.status)
            for s in self._sessions.values()
            if s.session.status in OPEN and site_id in (None, s.session.site_id)
        )

    async def visitor_gone_sessions(self) -> list[Session]:
        return [
            s.session
            for s in self._sessions.values()
            if s.session.is_open and s.session.visitor_gone_since is not None
        ]

    async def close(self) -> None:
        return None


def _started(session: Session) -> tuple[object, str]:
    """Order by start; ties by id, the same way every store breaks them."""
    return (session.started_at, str(session.session_id))
