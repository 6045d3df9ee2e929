"""The use cases around the rules: store before publish, one write per message, redelivery."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from livechat_shared.contracts import (
    ChatEnded,
    ChatHeld,
    ChatMessagePosted,
    CommandRejected,
    EndChatIfVisitorGone,
    VisitorDisconnected,
    VisitorReconnected,
)
from session_service.adapters.memory_store import MemorySessionStore
from session_service.domain import Session
from session_service.handlers import SessionService
from session_service.ports import Outcome, StoredSession

from tests.unit.session_service.chat import (
    SESSION,
    SITE,
    T0,
    VISITOR,
    RecordingPublisher,
    end,
    hold,
    post,
    resume,
    started,
)

GRACE = 45.0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


async def service(
    store: MemorySessionStore | None = None,
) -> tuple[SessionService, MemorySessionStore, RecordingPublisher]:
    store = store or MemorySessionStore()
    publisher = RecordingPublisher()
    sessions = SessionService(store, publisher, Clock(), GRACE)
    await sessions.handle(started())
    return sessions, store, publisher


async def stored_session(store: MemorySessionStore) -> Session:
    stored = await store.get(SITE, SESSION)
    assert stored is not None
    return stored.session


async def test_a_started_chat_is_stored_once_and_announces_nothing() -> None:
    sessions, store, publisher = await service()
    await sessions.handle(started())  # redelivered
    assert (await stored_session(store)).status == "active"
    assert publisher.published == []


async def test_a_retried_message_is_stored_once_and_republished_with_the_same_event_id() -> None:
    sessions, store, publisher = await service()
    await sessions.handle(post("hi", client_message_id="c-1"))
    await sessions.handle(post("hi", client_message_id="c-1"))  # the client retried
    await sessions.handle(post("anyone?", client_message_id="c-2"))
    assert [m.seq for m in await store.messages(SITE, SESSION, 0, 10)] == [1, 2]
    first, again, second = publisher.published
    assert isinstance(first, ChatMessagePosted) and again == first
    assert isinstance(second, ChatMessagePosted) and second.seq == 2
    assert (await stored_session(store)).last_seq == 2


async def test_a_stranger_is_told_why_the_message_was_refused() -> None:
    sessions, store, publisher = await service()
    command = post("let me in", "visitor", "v-eve")
    await sessions.handle(command)
    [rejected] = publisher.published
    assert isinstance(rejected, CommandRejected)
    assert rejected.visitor_id == "v-eve" and rejected.command_id == command.command_id
    assert await store.messages(SITE, SESSION, 0, 10) == []


async def test_a_redelivered_hold_is_not_applied_twice_and_republishes_the_same_event() -> None:
    sessions, store, publisher = await service()
    held = hold()
    await sessions.handle(held)
    await sessions.handle(resume())
    await sessions.handle(held)  # redelivered after the resume: must not hold again
    first, _, again = publisher.published
    assert isinstance(first, ChatHeld) and again == first
    assert (await stored_session(store)).status == "active"


async def test_a_redelivered_rejection_is_answered_the_same_way() -> None:
    sessions, _, publisher = await service()
    await sessions.handle(hold())
    twice = hold()
    await sessions.handle(twice)
    await sessions.handle(resume())
    await sessions.handle(twice)  # the chat is active again, yet this hold was refused
    rejected, again = [m for m in publisher.published if isinstance(m, CommandRejected)]
    assert again == rejected
    assert len([m for m in publisher.published if isinstance(m, ChatHeld)]) == 1


async def test_a_crash_between_store_and_publish_is_healed_by_the_redelivery() -> None:
    sessions, store, publisher = await service()
    command = end("visitor")
    publisher.fail_next = True
    with pytest.raises(ConnectionError):
        await sessions.handle(command)
    assert (await stored_session(store)).status == "ended"  # stored before publishing
    await sessions.handle(command)  # the broker redelivers the unacked message
    [ended] = publisher.published
    assert isinstance(ended, ChatEnded) and ended.ended_by == "visitor"


async def test_a_disconnected_visitor_gets_a_check_after_the_grace_that_ends_the_chat() -> None:
    sessions, store, publisher = await service()
    gone = VisitorDisconnected(site_id=SITE, visitor_id=VISITOR, occurred_at=T0)
    await sessions.handle(gone)
    await sessions.handle(gone)  # redelivered: the same check is scheduled again
    (check, delay), (again, _) = publisher.delayed
    assert delay == GRACE and again == check
    assert isinstance(check, EndChatIfVisitorGone) and check.disconnected_at == T0
    assert publisher.published == []  # the visitor's own fact is not ours to publish
    await sessions.handle(check)
    await sessions.handle(check)  # redelivered after it ended the chat
    ended, republished = publisher.published
    assert isinstance(ended, ChatEnded) and ended.ended_by == "visitor_gone"
    assert republished == ended
    assert (await stored_session(store)).status == "ended"


async def test_a_visitor_back_within_the_grace_keeps_the_chat() -> None:
    sessions, store, publisher = await service()
    await sessions.handle(VisitorDisconnected(site_id=SITE, visitor_id=VISITOR, occurred_at=T0))
    await sessions.handle(VisitorReconnected(site_id=SITE, visitor_id=VISITOR))
    [(check, _)] = publisher.delayed
    await sessions.handle(check)
    assert publisher.published == []
    assert (await stored_session(store)).status == "active"


class TornStore(MemorySessionStore):
    """Stores the next message, then fails before its session's last_seq is raised."""

    tear_next = False

    async def append_message(self, message: ChatMessagePosted) -> None:
        if not self.tear_next:
            await super().append_message(message)
            return
        self.tear_next = False
        before = await self.get(message.site_id, message.session_id)
        await super().append_message(message)
        assert before is not None
        self._sessions[message.session_id] = before
        raise TimeoutError("store unreachable")


async def test_a_transcript_ahead_of_its_session_after_a_torn_write_keeps_numbers_unique() -> None:
    store = TornStore()
    sessions, _, publisher = await service(store)
    await sessions.handle(post("one", client_message_id="c-1"))
    store.tear_next = True
    two = post("two", client_message_id="c-2")
    with pytest.raises(TimeoutError):
        await sessions.handle(two)
    await sessions.handle(post("three", client_message_id="c-3"))  # before two's redelivery
    await sessions.handle(two)
    transcript = await store.messages(SITE, SESSION, 0, 10)
    assert [(m.seq, m.text) for m in transcript] == [(1, "one"), (2, "two"), (3, "three")]
    assert (await stored_session(store)).last_seq == 3
    posted = [m for m in publisher.published if isinstance(m, ChatMessagePosted)]
    assert [m.seq for m in posted] == [1, 3, 2]


class ContestedStore(MemorySessionStore):
    """Another writer saves the session between our read and our write, once."""

    contest_next = True
    saves = 0

    async def save(self, stored: StoredSession, session: Session, outcome: Outcome) -> None:
        self.saves += 1
        if self.contest_next:
            self.contest_next = False
            await super().save(stored, stored.session, Outcome("someone-else", []))
        await super().save(stored, session, outcome)


async def test_a_session_saved_by_someone_else_meanwhile_is_decided_again() -> None:
    store = ContestedStore()
    sessions, _, publisher = await service(store)
    await sessions.handle(hold())
    assert store.saves == 2  # refused as stale, then decided again on the fresh state
    assert [type(m) for m in publisher.published] == [ChatHeld]
    assert (await stored_session(store)).status == "on_hold"
