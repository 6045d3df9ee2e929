"""The visitor-gone check is re-armed from the stored sessions on start, and firing twice is harmless."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from livechat_shared.contracts import (
    ChatEnded,
    EndChatIfVisitorGone,
    VisitorDisconnected,
    VisitorReconnected,
)
from livechat_shared.contracts.timers import REARM_MINIMUM_SECONDS
from session_service.adapters.memory_store import MemorySessionStore
from session_service.handlers import SessionService

from tests.unit.session_service.chat import SITE, T0, VISITOR, RecordingPublisher, started

GRACE = 45.0
OTHER = uuid.UUID("5e551011-0000-4000-8000-000000000002")


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


async def two_chats_one_visitor_gone(store: MemorySessionStore, clock: Clock) -> RecordingPublisher:
    publisher = RecordingPublisher()
    sessions = SessionService(store, publisher, clock, GRACE)
    await sessions.handle(started())
    await sessions.handle(started(session_id=OTHER, visitor="v-bob"))
    gone = VisitorDisconnected(
        site_id=SITE, visitor_id=VISITOR, occurred_at=T0 + timedelta(seconds=5)
    )
    await sessions.handle(gone)
    return publisher


async def restarted(
    store: MemorySessionStore, clock: Clock
) -> tuple[SessionService, RecordingPublisher]:
    publisher = RecordingPublisher()
    sessions = SessionService(store, publisher, clock, GRACE)
    await sessions.rearm_timers()
    return sessions, publisher


async def test_on_start_each_chat_whose_visitor_is_gone_gets_its_check_with_the_time_left() -> None:
    store, clock = MemorySessionStore(), Clock()
    await two_chats_one_visitor_gone(store, clock)
    clock.now = T0 + timedelta(seconds=20)  # gone for 15 s of the 45 s grace

    _, publisher = await restarted(store, clock)

    [(check, delay)] = publisher.delayed
    assert isinstance(check, EndChatIfVisitorGone)
    assert check.visitor_id == VISITOR and check.disconnected_at == T0 + timedelta(seconds=5)
    assert delay == GRACE and publisher.due_in == [pytest.approx(30.0)]


async def test_a_check_that_fell_due_while_down_runs_soon_after_start() -> None:
    store, clock = MemorySessionStore(), Clock()
    await two_chats_one_visitor_gone(store, clock)
    clock.now = T0 + timedelta(hours=1)
    _, publisher = await restarted(store, clock)
    assert publisher.due_in == [REARM_MINIMUM_SECONDS]


async def test_a_visitor_back_or_a_chat_ended_is_not_rearmed() -> None:
    store, clock = MemorySessionStore(), Clock()
    first = await two_chats_one_visitor_gone(store, clock)
    sessions = SessionService(store, first, clock, GRACE)
    await sessions.handle(VisitorReconnected(site_id=SITE, visitor_id=VISITOR))
    _, publisher = await restarted(store, clock)
    assert publisher.delayed == []


@pytest.mark.parametrize("rearmed_first", [False, True])
async def test_a_visitor_gone_check_that_fires_twice_ends_the_chat_once(
    rearmed_first: bool,
) -> None:
    store, clock = MemorySessionStore(), Clock()
    first = await two_chats_one_visitor_gone(store, clock)
    [(original, _)] = first.delayed
    clock.now = T0 + timedelta(minutes=5)
    sessions, publisher = await restarted(store, clock)
    [(rearmed, _)] = publisher.delayed
    assert rearmed.message_id != original.message_id  # decided on its own, never a redelivery

    for check in [rearmed, original] if rearmed_first else [original, rearmed]:
        await sessions.handle(check)

    [ended] = publisher.published
    assert isinstance(ended, ChatEnded) and ended.ended_by == "visitor_gone"
    stored = await store.visitor_session(SITE, VISITOR)
    assert stored is not None and stored.session.status == "ended"
    other = await store.visitor_session(SITE, "v-bob")
    assert other is not None and other.session.status == "active"
