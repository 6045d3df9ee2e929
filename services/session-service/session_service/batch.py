"""A batch of messages decided as one: what the use cases write is kept here, stored in one write
afterwards, and only then are their events published.

`BatchView` is the store as the batch's use cases see it: the sessions and transcript messages
written earlier in the batch, else the store. `Outbox` keeps the events and timers to publish,
and sends them once the batch is stored: one chain per session, in order within it; the chains
side by side, so the batch waits for its confirms about once rather than once per event.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace

from livechat_shared.contracts import ChatMessagePosted, Message

from session_service.domain import Session
from session_service.ports import (
    OUTCOMES_KEPT,
    Added,
    Appended,
    Decisions,
    DuplicateMessage,
    Outcome,
    Publisher,
    Saved,
    SequenceTaken,
    StaleSession,
    StoredSession,
    Write,
)

MessageKey = tuple[str, uuid.UUID, str]


class BatchView:
    def __init__(self, store: Decisions) -> None:
        self.store = store
        self.writes: list[Write] = []
        self._sessions: dict[uuid.UUID, StoredSession] = {}
        self._messages: dict[MessageKey, ChatMessagePosted] = {}
        # What the store answered, kept for the batch: nothing else writes meanwhile (the
        # service's lock, and one active consumer across replicas).
        self._read: dict[tuple[str, uuid.UUID], StoredSession | None] = {}

    async def add(self, session: Session) -> bool:
        if session.session_id in self._sessions or await self.get(
            session.site_id, session.session_id
        ):
            return False
        self._sessions[session.session_id] = StoredSession(session, version=1)
        self.writes.append(Added(session))
        return True

    async def get(self, site_id: str, session_id: uuid.UUID) -> StoredSession | None:
        if session_id in self._sessions:
            stored = self._sessions[session_id]
            return stored if stored.session.site_id == site_id else None
        key = (site_id, session_id)
        if key not in self._read:
            self._read[key] = await self.store.get(site_id, session_id)
        return self._read[key]

    async def visitor_session(self, site_id: str, visitor_id: str) -> StoredSession | None:
        """The store's answer, unless a session of this batch is a better one by the same rule
        (not ended first, then the one that started last)."""
        found = await self.store.visitor_session(site_id, visitor_id)
        pool = [
            s
            for s in self._sessions.values()
            if s.session.site_id == site_id and s.session.visitor_id == visitor_id
        ]
        if found is not None and found.session.session_id not in self._sessions:
            pool.append(found)
        best = [s for s in pool if s.session.is_open] or pool
        return max(
            best, key=lambda s: (s.session.started_at, str(s.session.session_id)), default=None
        )

    async def save(self, stored: StoredSession, session: Session, outcome: Outcome) -> None:
        current = await self.get(session.site_id, session.session_id)
        if current is None or current.version != stored.version:
            raise StaleSession(str(session.session_id))
        self._sessions[session.session_id] = StoredSession(
            replace(session, last_seq=current.session.last_seq),  # append_message owns it
            version=current.version + 1,
            outcomes=(*current.outcomes, outcome)[-OUTCOMES_KEPT:],
        )
        self.writes.append(Saved(stored, session, outcome))

    async def append_message(self, message: ChatMessagePosted) -> None:
        key = (message.site_id, message.session_id, message.client_message_id)
        if key in self._messages:
            raise DuplicateMessage(message.client_message_id)
        if any(
            m.seq == message.seq and (m.site_id, m.session_id) == key[:2]
            for m in self._messages.values()
        ):
            raise SequenceTaken(str(message.seq))
        # Taken in the store already: the batch's write says so, and the messages go one by one.
        self._messages[key] = message
        stored = await self.get(message.site_id, message.session_id)
        if stored is not None:
            last_seq = max(stored.session.last_seq, message.seq)
            self._sessions[message.session_id] = replace(
                stored, session=replace(stored.session, last_seq=last_seq)
            )
        self.writes.append(Appended(message))

    async def find_message(
        self, site_id: str, session_id: uuid.UUID, client_message_id: str
    ) -> ChatMessagePosted | None:
        found = self._messages.get((site_id, session_id, client_message_id))
        if found is not None:
            return found
        return await self.store.find_message(site_id, session_id, client_message_id)

    async def highest_seq(self, site_id: str, session_id: uuid.UUID) -> int:
        ours = (
            m.seq
            for m in self._messages.values()
            if (m.site_id, m.session_id) == (site_id, session_id)
        )
        return max(await self.store.highest_seq(site_id, session_id), *ours, 0)


Send = Callable[[Publisher], Awaitable[None]]


class Outbox:
    """A Publisher that keeps what it is given until `send`."""

    def __init__(self) -> None:
        self._chains: dict[object, list[Send]] = {}

    async def publish(self, message: Message) -> None:
        self._keep(message, lambda publisher: publisher.publish(message))

    async def publish_delayed(
        self, message: Message, delay_seconds: float, due_in_seconds: float | None = None
    ) -> None:
        self._keep(
            message,
            lambda publisher: publisher.publish_delayed(message, delay_seconds, due_in_seconds),
        )

    def _keep(self, message: Message, send: Send) -> None:
        # A session's events keep their order; another session's may pass them.
        key = getattr(message, "session_id", None) or message.site_id
        self._chains.setdefault(key, []).append(send)

    async def send(self, publisher: Publisher) -> None:
        """Publish everything kept; return once all is confirmed, or raise the first failure
        once every chain has stopped (nothing is left in flight behind the caller's back)."""
        results = await asyncio.gather(
            *(_in_order(publisher, chain) for chain in self._chains.values()),
            return_exceptions=True,
        )
        self._chains.clear()
        for result in results:
            if isinstance(result, BaseException):
                raise result


async def _in_order(publisher: Publisher, chain: list[Send]) -> None:
    for send in chain:
        await send(publisher)
