"""The session service's ports: the session store (sessions, transcripts) and the outbound bus."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from livechat_shared.contracts import ChatMessagePosted, Event, Message

from session_service.domain import Session, Status

OUTCOMES_KEPT = 100
"""Outcomes remembered per session: enough to recognise any redelivery, bounded in size."""


@dataclass(frozen=True)
class Outcome:
    """What one consumed message did to a session: the events it produced, as JSON.

    Stored in the same write as the session's new state, so a redelivered message is
    recognised and answered with the very same events instead of being applied twice.
    """

    message_id: str
    events: list[dict[str, Any]]


@dataclass(frozen=True)
class StoredSession:
    session: Session
    version: int
    """Bumped by every save: a save based on an older read is refused (StaleSession)."""
    outcomes: tuple[Outcome, ...] = field(default=())
    """The most recent outcomes (up to OUTCOMES_KEPT), oldest first."""

    def outcome_of(self, message_id: str) -> Outcome | None:
        return next((o for o in self.outcomes if o.message_id == message_id), None)


class StaleSession(Exception):
    """The session changed since it was read: read it again and decide again."""


class SequenceTaken(Exception):
    """A message with that sequence number is stored already in the session."""


class DuplicateMessage(Exception):
    """A message with that client_message_id is stored already in the session."""


@dataclass(frozen=True)
class Added:
    """A new session to store (version 1): a conflict if its id is stored already."""

    session: Session


@dataclass(frozen=True)
class Saved:
    """`SessionStore.save` in a batch."""

    stored: StoredSession
    session: Session
    outcome: Outcome


@dataclass(frozen=True)
class Appended:
    """`SessionStore.append_message` in a batch."""

    message: ChatMessagePosted


Write = Added | Saved | Appended


class Decisions(Protocol):
    """What the use cases read and write while deciding one message."""

    async def add(self, session: Session) -> bool:
        """Store a new session (version 1); False, changing nothing, if its id exists."""

    async def get(self, site_id: str, session_id: uuid.UUID) -> StoredSession | None: ...

    async def visitor_session(self, site_id: str, visitor_id: str) -> StoredSession | None:
        """The visitor's session that has not ended, else the one that started last."""

    async def save(self, stored: StoredSession, session: Session, outcome: Outcome) -> None:
        """Write the session's status, end and presence fields and remember the outcome.

        Raise StaleSession if the session was saved since `stored` was read. The transcript's
        last_seq is not written here: append_message owns it.
        """

    async def append_message(self, message: ChatMessagePosted) -> None:
        """Add a message to its session's transcript and raise the session's last_seq to it.

        Raise DuplicateMessage if its client_message_id is stored in the session already,
        SequenceTaken if its seq is.
        """

    async def find_message(
        self, site_id: str, session_id: uuid.UUID, client_message_id: str
    ) -> ChatMessagePosted | None: ...

    async def highest_seq(self, site_id: str, session_id: uuid.UUID) -> int:
        """The highest seq stored in the transcript (0: none)."""


class SessionStore(Decisions, Protocol):
    async def write_batch(self, writes: Sequence[Write]) -> None:
        """Store a batch's writes, in order, in one write: all or none in the embedded and
        memory stores (one transaction). Raise StaleSession, SequenceTaken or DuplicateMessage
        as the single writes would, and StaleSession for an Added whose id is stored already.
        MongoDB: the transcript messages in one ordered insert, then the sessions in one
        ordered bulk write; on a conflict some may be stored (each is idempotent to decide
        again: the handler then goes one by one).
        """

    async def messages(
        self, site_id: str, session_id: uuid.UUID, after_seq: int, limit: int
    ) -> list[ChatMessagePosted]:
        """Up to `limit` messages with seq > after_seq, in ascending seq."""

    async def operator_sessions(self, site_id: str, operator_id: str) -> list[Session]:
        """The operator's sessions that have not ended, oldest first."""

    async def latest_messages(
        self, site_id: str, session_ids: Sequence[uuid.UUID], offset: int, limit: int
    ) -> tuple[int, list[ChatMessagePosted]]:
        """Messages of these sessions, newest first (posted, then seq): the total and one page."""

    async def count_open(self, site_id: str | None = None) -> Mapping[tuple[str, Status], int]:
        """Sessions not ended, by (site, status); of one site, or of all."""

    async def visitor_gone_sessions(self) -> list[Session]:
        """Sessions not ended whose visitor is gone (visitor_gone_since set), of every site."""

    async def close(self) -> None: ...


class Publisher(Protocol):
    async def publish(self, message: Message) -> None: ...

    async def publish_delayed(
        self, message: Message, delay_seconds: float, due_in_seconds: float | None = None
    ) -> None:
        """Deliver after `delay_seconds` (or, for a re-armed timer, after `due_in_seconds`)."""


class Observer(Protocol):
    async def __call__(self, site_id: str, events: Sequence[Event]) -> None:
        """Told of the events each message newly caused (never of republished ones)."""
