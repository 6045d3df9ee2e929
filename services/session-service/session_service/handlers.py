"""The use cases: for each consumed message, load the session → decide → store → publish.

Messages are handled one at a time (a lock here; across replicas the single active consumer),
so a session's messages get their sequence numbers in order. Each decision is stored before its
events are published, and event ids derive from the message that caused them: a redelivered
message is never applied twice, and gets the very same events published again.

A batch (what waited together in the input queue) runs the very same use cases, in order,
against a view of the store that keeps their writes (`batch.py`); then it stores them in one
write and publishes all their events, waiting for the confirms about once. A conflict in that
write (another replica wrote, or a write of ours was cut short) raises: the consumer then hands
the messages over one by one, where the use cases decide again on what is stored.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import datetime
from functools import partial, reduce
from typing import Any

from livechat_shared.contracts import (
    ChatMessagePosted,
    ChatStarted,
    EndChat,
    EndChatIfVisitorGone,
    Event,
    HoldChat,
    Message,
    PostChatMessage,
    ResumeChat,
    VisitorDisconnected,
    VisitorReconnected,
    parse_message,
)
from livechat_shared.contracts.timers import Timer

from session_service.batch import BatchView, Outbox
from session_service.domain import Session, apply, decide
from session_service.domain.timers import rearmed_visitor_gone_check, visitor_gone_check
from session_service.ports import (
    Decisions,
    DuplicateMessage,
    Observer,
    Outcome,
    Publisher,
    SequenceTaken,
    SessionStore,
    StaleSession,
    StoredSession,
)

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Locate = Callable[[], Awaitable[StoredSession | None]]

_ID_NAMESPACE = uuid.UUID("0b6c3f4e-58a1-4f4e-8d0c-6a2f1c9e7d35")


def derived_id(key: str) -> uuid.UUID:
    """The same key always yields the same id: deciding a message again repeats its ids."""
    return uuid.uuid5(_ID_NAMESPACE, key)


class SessionService:
    def __init__(
        self,
        store: SessionStore,
        publisher: Publisher,
        clock: Clock,
        visitor_grace_seconds: float,
        observe: Observer | None = None,
    ) -> None:
        self.store = store
        self.publisher = publisher
        self.clock = clock
        self.visitor_grace_seconds = visitor_grace_seconds
        self.observe = observe
        self._lock = asyncio.Lock()

    async def rearm_timers(self) -> int:
        """After a start, and when the broker comes back: arm again every visitor-gone check.

        The checks already waiting in their timer queue survive broker restarts; this covers
        those held back (RabbitMQ retries one its target did not confirm only minutes later)
        or lost anyway (a timer queue deleted or purged, an upgrade from classic queues).
        Each gets a fresh id, so it is decided even if the first copy was: a check for a chat
        that ended, or whose visitor came back, decides nothing.
        """
        now = self.clock()
        gone = await self.store.visitor_gone_sessions()
        # Soonest first: a timer queue expires messages only at its head.
        gone.sort(key=lambda session: session.visitor_gone_since or now)
        deciding = self._deciding(self.store, self.publisher, self.observe)
        for session in gone:
            await deciding.start_timer(
                rearmed_visitor_gone_check(session, self.visitor_grace_seconds, now, uuid.uuid4())
            )
        return len(gone)

    async def handle(self, message: Message) -> None:
        use_case = _USE_CASES.get(type(message))
        if use_case is not None:
            async with self._lock:
                await use_case(self._deciding(self.store, self.publisher, self.observe), message)

    async def handle_batch(self, messages: Sequence[Message]) -> None:
        """The same as `handle` on each message in order: one store write, then every event
        published, the confirms awaited together; the metrics told once per site."""
        async with self._lock:
            view, outbox = BatchView(self.store), Outbox()
            observed: dict[str, list[Event]] = {}

            async def observe(site_id: str, events: Sequence[Event]) -> None:
                observed.setdefault(site_id, []).extend(events)

            deciding = self._deciding(view, outbox, observe)
            for message in messages:
                use_case = _USE_CASES.get(type(message))
                if use_case is not None:
                    await use_case(deciding, message)
            if view.writes:
                await self.store.write_batch(view.writes)
            await outbox.send(self.publisher)
            if self.observe is not None:
                for site_id, events in observed.items():
                    await self.observe(site_id, events)

    def _deciding(
        self, store: Decisions, publisher: Publisher, observe: Observer | None
    ) -> _Deciding:
        return _Deciding(store, publisher, self.clock, self.visitor_grace_seconds, observe)


class _Deciding:
    """The use cases, on a store (or a batch's view of it) and a publisher (or an outbox)."""

    def __init__(
        self,
        store: Decisions,
        publisher: Publisher,
        clock: Clock,
        visitor_grace_seconds: float,
        observe: Observer | None,
    ) -> None:
        self.store = store
        self.publisher = publisher
        self.clock = clock
        self.visitor_grace_seconds = visitor_grace_seconds
        self.observe = observe

    async def _in_session(self, message: HoldChat | ResumeChat | EndChat) -> None:
        locate = partial(self.store.get, message.site_id, message.session_id)
        await self._decide(message, locate, retry=True)

    async def _of_visitor(
        self, message: VisitorDisconnected | VisitorReconnected | EndChatIfVisitorGone
    ) -> None:
        # The visitor's open session, else its latest: a redelivered check that ended the chat
        # finds the ended session and its stored outcome.
        locate = partial(self.store.visitor_session, message.site_id, message.visitor_id)
        await self._decide(message, locate, retry=True)

    async def _post_message(self, command: PostChatMessage) -> None:
        await self._post(command, retry=True)

    async def _start(self, event: ChatStarted) -> None:
        stored = await self.store.get(event.site_id, event.session_id)
        events = decide(stored.session if stored else None, event, self.clock(), derived_id)
        session = apply(None, event)
        if events and session is not None and await self.store.add(session):
            await self._observed(event.site_id, events)

    async def _decide(self, message: Message, locate: Locate, retry: bool) -> None:
        stored = await locate()
        message_id = str(message.message_id)
        if stored is not None and (done := stored.outcome_of(message_id)) is not None:
            await self._publish(message, [_event(raw) for raw in done.events])
            return
        session = stored.session if stored else None
        events = decide(session, message, self.clock(), derived_id)
        if stored is not None and events:
            changed = reduce(apply, events, session)
            assert changed is not None
            outcome = Outcome(message_id, [e.model_dump(mode="json") for e in events])
            try:
                await self.store.save(stored, changed, outcome)
            except StaleSession:
                if not retry:
                    raise
                log.warning("the session changed since it was read; deciding again")
                await self._decide(message, locate, retry=False)
                return
        await self._publish(message, events)
        await self._observed(message.site_id, events)

    async def _post(self, command: PostChatMessage, retry: bool, heal: bool = False) -> None:
        stored = await self.store.get(command.site_id, command.session_id)
        session: Session | None = stored.session if stored else None
        earlier: ChatMessagePosted | None = None
        if session is not None:
            earlier = await self.store.find_message(
                command.site_id, command.session_id, command.client_message_id
            )
            if heal:
                highest = await self.store.highest_seq(command.site_id, command.session_id)
                session = replace(session, last_seq=max(session.last_seq, highest))
        events = decide(session, command, self.clock(), derived_id, earlier)
        new = [e for e in events if e is not earlier]
        for event in new:
            if not isinstance(event, ChatMessagePosted):
                continue
            try:
                await self.store.append_message(event)
            except (SequenceTaken, DuplicateMessage):
                if not retry:
                    raise
                # A write of ours was cut short (the message stored, last_seq not raised) or
                # another replica wrote: decide again on what the transcript really holds.
                log.warning("the transcript is ahead of the session; deciding again")
                await self._post(command, retry=False, heal=True)
                return
        await self._publish(command, events)
        await self._observed(command.site_id, new)

    async def _publish(self, cause: Message, events: Sequence[Event]) -> None:
        for event in events:
            if event.message_id != cause.message_id:
                await self.publisher.publish(event)
            elif isinstance(event, VisitorDisconnected):
                # A consumed fact we kept; what we owe for it is the check after the grace.
                await self.start_timer(
                    visitor_gone_check(event, self.visitor_grace_seconds, derived_id)
                )

    async def start_timer(self, timer: Timer) -> None:
        await self.publisher.publish_delayed(
            timer.command, timer.delay_seconds, due_in_seconds=timer.due_in_seconds
        )

    async def _observed(self, site_id: str, events: Sequence[Event]) -> None:
        if self.observe is not None and events:
            await self.observe(site_id, events)


_USE_CASES: dict[type[Message], Callable[[_Deciding, Any], Awaitable[None]]] = {
    ChatStarted: _Deciding._start,
    PostChatMessage: _Deciding._post_message,
    HoldChat: _Deciding._in_session,
    ResumeChat: _Deciding._in_session,
    EndChat: _Deciding._in_session,
    VisitorDisconnected: _Deciding._of_visitor,
    VisitorReconnected: _Deciding._of_visitor,
    EndChatIfVisitorGone: _Deciding._of_visitor,
}
"""How each message's session is found: by the session it names, or by its visitor."""


def _event(raw: dict[str, object]) -> Event:
    event = parse_message(raw)
    assert isinstance(event, Event)
    return event
