"""A batch is the same as its messages one by one: random conversations in two sessions, with
retries and redeliveries, cut into random batches, store the same and publish the same."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from livechat_shared.contracts import (
    ChatMessagePosted,
    EndChatIfVisitorGone,
    Message,
    VisitorDisconnected,
    VisitorReconnected,
)
from session_service.adapters.memory_store import MemorySessionStore
from session_service.handlers import SessionService
from session_service.ports import StaleSession, Write

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

OTHER = uuid.UUID("5e551011-0000-4000-8000-000000000002")
BEA = "v-bea"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def service() -> tuple[SessionService, MemorySessionStore, RecordingPublisher]:
    store, publisher = MemorySessionStore(), RecordingPublisher()
    return SessionService(store, publisher, Clock(), 45.0), store, publisher


def in_either(session_id: uuid.UUID, visitor: str) -> st.SearchStrategy[Message]:
    return st.one_of(
        st.sampled_from(["c1", "c2", "c3", "c4"]).map(
            lambda c: post("hi", client_message_id=c, author_id=visitor, session_id=session_id)
        ),
        st.just(post("yes", "operator", session_id=session_id)),
        st.just(hold(session_id=session_id)),
        st.just(resume(session_id=session_id)),
        st.just(end(session_id=session_id)),
        st.just(end("visitor", visitor, session_id=session_id)),
        st.just(started(session_id, visitor)),
        st.integers(0, 2).map(
            lambda s: VisitorDisconnected(
                site_id=SITE, visitor_id=visitor, occurred_at=T0 + timedelta(seconds=s)
            )
        ),
        st.just(VisitorReconnected(site_id=SITE, visitor_id=visitor)),
        st.integers(0, 2).map(
            lambda s: EndChatIfVisitorGone(
                site_id=SITE, visitor_id=visitor, disconnected_at=T0 + timedelta(seconds=s)
            )
        ),
    )


messages = st.one_of(in_either(SESSION, VISITOR), in_either(OTHER, BEA))


def cut(items: list[Message], sizes: Sequence[int]) -> list[list[Message]]:
    batches, start = [], 0
    for size in sizes:
        batches.append(items[start : start + size])
        start += size
    return [b for b in [*batches, items[start:]] if b]


def by_session(published: list[Message]) -> dict[object, list[Message]]:
    """Published events per session: a batch keeps each session's order, not the interleaving."""
    chains: dict[object, list[Message]] = {}
    for message in published:
        chains.setdefault(getattr(message, "session_id", None) or message.site_id, []).append(
            message
        )
    return chains


async def everything(store: MemorySessionStore) -> tuple[object, ...]:
    stored = [await store.get(SITE, s) for s in (SESSION, OTHER)]
    transcripts = [await store.messages(SITE, s, 0, 100) for s in (SESSION, OTHER)]
    return (*stored, *transcripts)


@settings(max_examples=150, deadline=None)
@given(
    conversation=st.lists(messages, max_size=40),
    again=st.lists(st.integers(0, 100), max_size=6),
    sizes=st.lists(st.integers(1, 12), max_size=12),
)
async def test_batches_store_and_publish_what_one_message_at_a_time_does(
    conversation: list[Message], again: list[int], sizes: list[int]
) -> None:
    delivered: list[Message] = [started(), started(OTHER, BEA), *conversation]
    for n in again:  # redeliveries, later than the first delivery
        delivered.append(delivered[n % len(delivered)])
    one, one_store, one_published = service()
    for message in delivered:
        await one.handle(message)
    batched, batch_store, batch_published = service()
    for batch in cut(delivered, sizes):
        await batched.handle_batch(batch)
    assert await everything(batch_store) == await everything(one_store)
    assert by_session(batch_published.published) == by_session(one_published.published)
    assert batch_published.delayed == one_published.delayed


class Writes(MemorySessionStore):
    def __init__(self) -> None:
        super().__init__()
        self.batches: list[int] = []

    async def write_batch(self, writes: Sequence[Write]) -> None:
        self.batches.append(len(writes))
        await super().write_batch(writes)


async def test_a_batch_is_one_store_write_before_any_of_its_events_is_published() -> None:
    store, publisher = Writes(), RecordingPublisher()
    sessions = SessionService(store, publisher, Clock(), 45.0)
    await sessions.handle_batch(
        [started(), post("a", client_message_id="a"), post("b", client_message_id="b"), hold()]
    )
    assert store.batches == [4]  # the session, two messages, the hold
    posted = [m for m in publisher.published if isinstance(m, ChatMessagePosted)]
    assert [m.seq for m in posted] == [1, 2]


class ConflictOnce(MemorySessionStore):
    """Another replica wrote a session of the batch just before the batch's write."""

    def __init__(self) -> None:
        super().__init__()
        self.conflicts = 1

    async def write_batch(self, writes: Sequence[Write]) -> None:
        if self.conflicts:
            self.conflicts -= 1
            raise StaleSession("another writer")
        await super().write_batch(writes)


async def test_a_conflicting_batch_stores_and_publishes_nothing_and_one_by_one_recovers() -> None:
    store, publisher = ConflictOnce(), RecordingPublisher()
    sessions = SessionService(store, publisher, Clock(), 45.0)
    await sessions.handle(started())
    batch: list[Message] = [post("a", client_message_id="a"), hold(), end()]
    with pytest.raises(StaleSession):
        await sessions.handle_batch(batch)
    assert publisher.published == [] and await store.messages(SITE, SESSION, 0, 10) == []
    for message in batch:  # what the consumer then does
        await sessions.handle(message)
    assert [type(m).__name__ for m in publisher.published] == [
        "ChatMessagePosted",
        "ChatHeld",
        "ChatEnded",
    ]


async def test_a_batch_whose_publishing_failed_republishes_the_same_events_when_redelivered() -> (
    None
):
    sessions, store, publisher = service()
    await sessions.handle(started())
    batch: list[Message] = [post("a", client_message_id="a"), hold(), end()]
    publisher.fail_next = True
    with pytest.raises(ConnectionError):
        await sessions.handle_batch(batch)
    publisher.published.clear()
    await sessions.handle_batch(batch)  # redelivered: stored already, published now
    again = list(publisher.published)
    publisher.published.clear()
    await sessions.handle_batch(batch)  # and once more
    assert [type(m).__name__ for m in again] == ["ChatMessagePosted", "ChatHeld", "ChatEnded"]
    assert publisher.published == again  # the very same events, ids included
    assert [m.seq for m in await store.messages(SITE, SESSION, 0, 10)] == [1]
