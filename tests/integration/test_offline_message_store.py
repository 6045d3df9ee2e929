"""One contract suite for every offline-message store adapter: memory, embedded SQLite, MongoDB."""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from offline_messages.adapters.memory_store import MemoryMessageStore
from offline_messages.adapters.mongo_store import MongoMessageStore
from offline_messages.adapters.sqlite_store import SqliteMessageStore
from offline_messages.domain import OfflineMessage
from offline_messages.ports import (
    OUTCOMES_KEPT,
    DuplicateTake,
    OfflineMessageStore,
    Outcome,
    StaleMessage,
)

from tests.support.mongo import fresh_database, mongo_kind

pytestmark = pytest.mark.integration

# Whole milliseconds: the precision MongoDB keeps, so every adapter returns what it was given.
T0 = datetime(2026, 3, 1, 9, 0, 0, 123_000, tzinfo=UTC)


@asynccontextmanager
async def mongo_store() -> AsyncIterator[MongoMessageStore]:
    async with fresh_database() as database:
        store = MongoMessageStore(database)
        await store.ensure_indexes()
        yield store


@asynccontextmanager
async def sqlite_store() -> AsyncIterator[SqliteMessageStore]:
    with tempfile.TemporaryDirectory() as folder:
        store = SqliteMessageStore(Path(folder) / "offline-messages.sqlite3")
        try:
            yield store
        finally:
            await store.close()


@pytest.fixture(params=["memory", "sqlite", "mongo"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[OfflineMessageStore]:
    if request.param == "memory":
        yield MemoryMessageStore()
        return
    if request.param == "sqlite":
        async with sqlite_store() as embedded:
            yield embedded
        return
    print(f"\nMongo offline-message store tests run against: {mongo_kind()}")
    async with mongo_store() as mongo:
        yield mongo


def waiting(minutes_ago: int = 0, site_id: str = "acme") -> OfflineMessage:
    return OfflineMessage(
        offline_message_id=uuid.uuid4(),
        site_id=site_id,
        visitor_id=f"v{minutes_ago}",
        name="Ada",
        email="ada@example.com",
        text="Do you ship to Norway?",
        left_at=T0 - timedelta(minutes=minutes_ago),
    )


async def test_a_message_comes_back_whole_and_only_on_its_site(
    store: OfflineMessageStore,
) -> None:
    message = waiting(5)
    assert await store.add(message)
    stored = await store.get("acme", message.offline_message_id)
    assert stored is not None
    assert stored.message == message
    assert stored.message.left_at.tzinfo is not None
    assert stored.outcomes == ()
    assert await store.get("other", message.offline_message_id) is None
    assert await store.get("acme", uuid.uuid4()) is None


async def test_a_message_is_stored_once(store: OfflineMessageStore) -> None:
    message = waiting(5)
    assert await store.add(message)
    assert not await store.add(replace(message, text="a redelivery, or an impostor"))
    stored = await store.get("acme", message.offline_message_id)
    assert stored is not None and stored.message.text == message.text


async def test_next_message_is_the_oldest_waiting_then_the_lowest_id(
    store: OfflineMessageStore,
) -> None:
    same_instant = [waiting(10) for _ in range(3)]
    for message in [waiting(1), *same_instant, waiting(60, site_id="other")]:
        await store.add(message)
    order = [m.offline_message_id for m in sorted(same_instant, key=lambda m: m.queue_position)]
    for expected in order:
        command_id = uuid.uuid4()
        got = await store.take_next("acme", "ann", command_id, T0)
        assert got is not None and got.offline_message_id == expected
        assert (got.status, got.operator_id, got.taken_at) == ("taken", "ann", T0)
        assert got.taken_by_command == command_id


async def test_nothing_waiting_takes_nothing(store: OfflineMessageStore) -> None:
    assert await store.take_next("acme", "ann", uuid.uuid4(), T0) is None
    await store.add(waiting(1, site_id="other"))
    assert await store.take_next("acme", "ann", uuid.uuid4(), T0) is None


async def test_one_command_takes_at_most_one_message(store: OfflineMessageStore) -> None:
    for minutes_ago in (2, 1):
        await store.add(waiting(minutes_ago))
    command_id = uuid.uuid4()
    first = await store.take_next("acme", "ann", command_id, T0)
    with pytest.raises(DuplicateTake):
        await store.take_next("acme", "ann", command_id, T0)
    assert await store.taken_by("acme", command_id) == first
    assert await store.taken_by("other", command_id) is None
    assert await store.taken_by("acme", uuid.uuid4()) is None
    assert await store.count_waiting("acme") == {"acme": 1}


async def test_operators_racing_for_next_message_never_get_the_same_one(
    store: OfflineMessageStore,
) -> None:
    for minutes_ago in range(5):
        await store.add(waiting(minutes_ago))
    results = await asyncio.gather(
        *(store.take_next("acme", f"op{i}", uuid.uuid4(), T0) for i in range(8))
    )
    taken = [r.offline_message_id for r in results if r is not None]
    assert len(taken) == len(set(taken)) == 5
    assert results.count(None) == 3
    assert await store.count_waiting("acme") == {}


async def test_a_save_writes_the_answer_and_remembers_its_outcome(
    store: OfflineMessageStore,
) -> None:
    await store.add(waiting(5))
    message = await store.take_next("acme", "ann", uuid.uuid4(), T0)
    assert message is not None
    stored = await store.get("acme", message.offline_message_id)
    assert stored is not None
    outcome = Outcome(str(uuid.uuid4()), [{"type": "OfflineMessageReplied", "text": "Yes"}])
    await store.save(stored, replace(message, status="replied", reply="Yes"), outcome)
    after = await store.get("acme", message.offline_message_id)
    assert after is not None
    assert after.message == replace(message, status="replied", reply="Yes")
    assert after.version > stored.version
    assert after.outcome_of(uuid.UUID(outcome.command_id)) == outcome


async def test_a_save_based_on_an_old_read_is_refused(store: OfflineMessageStore) -> None:
    await store.add(waiting(5))
    message = await store.take_next("acme", "ann", uuid.uuid4(), T0)
    assert message is not None
    stored = await store.get("acme", message.offline_message_id)
    assert stored is not None
    await store.save(stored, replace(message, status="closed"), Outcome("c1", []))
    with pytest.raises(StaleMessage):
        await store.save(stored, replace(message, status="replied"), Outcome("c2", []))
    after = await store.get("acme", message.offline_message_id)
    assert after is not None and after.message.status == "closed"


async def test_a_take_after_a_read_makes_that_read_stale(store: OfflineMessageStore) -> None:
    message = waiting(5)
    await store.add(message)
    before = await store.get("acme", message.offline_message_id)
    assert before is not None
    await store.take_next("acme", "ann", uuid.uuid4(), T0)
    with pytest.raises(StaleMessage):
        await store.save(before, replace(message, status="closed"), Outcome("c1", []))


async def test_only_the_latest_outcomes_are_kept(store: OfflineMessageStore) -> None:
    await store.add(waiting(5))
    message = await store.take_next("acme", "ann", uuid.uuid4(), T0)
    assert message is not None
    for i in range(OUTCOMES_KEPT + 3):
        stored = await store.get("acme", message.offline_message_id)
        assert stored is not None
        await store.save(stored, replace(message, reply=str(i)), Outcome(f"c{i}", []))
    after = await store.get("acme", message.offline_message_id)
    assert after is not None
    assert [o.command_id for o in after.outcomes] == [f"c{i}" for i in range(3, OUTCOMES_KEPT + 3)]


async def test_the_queue_lists_by_status_oldest_first(store: OfflineMessageStore) -> None:
    messages = [waiting(minutes_ago) for minutes_ago in (1, 4, 2, 3)]
    for message in [*messages, waiting(9, site_id="other")]:
        await store.add(message)
    taken = await store.take_next("acme", "ann", uuid.uuid4(), T0)
    assert taken is not None and taken.left_at == T0 - timedelta(minutes=4)

    listed = await store.messages("acme", ["waiting"], 10)
    assert [m.left_at for m in listed] == [T0 - timedelta(minutes=m) for m in (3, 2, 1)]
    assert [m.offline_message_id for m in await store.messages("acme", ["taken"], 10)] == [
        taken.offline_message_id
    ]
    everything = await store.messages("acme", ["waiting", "taken", "replied", "closed"], 2)
    assert [m.left_at for m in everything] == [T0 - timedelta(minutes=m) for m in (4, 3)]


async def test_waiting_messages_are_counted_by_site(store: OfflineMessageStore) -> None:
    for site_id, count in (("acme", 3), ("globex", 1)):
        for i in range(count):
            await store.add(waiting(i, site_id=site_id))
    await store.take_next("acme", "ann", uuid.uuid4(), T0)
    assert await store.count_waiting() == {"acme": 2, "globex": 1}
    assert await store.count_waiting("globex") == {"globex": 1}
    assert await store.count_waiting("initech") == {}
