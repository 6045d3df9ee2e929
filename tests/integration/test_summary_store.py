"""One contract suite for every summary store (memory, embedded SQLite, MongoDB), and the
projection on each."""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from livechat_shared.contracts import Channel, Presence, VisitorAbandoned, VisitorQueued
from summary_projector import rebuild as rebuild_command
from summary_projector.adapters.memory_store import MemorySummaryStore
from summary_projector.adapters.mongo_store import MongoSummaryStore
from summary_projector.adapters.sqlite_store import SqliteSummaryStore
from summary_projector.domain import (
    Offer,
    OperatorStatus,
    Session,
    SiteMaxChats,
    SummaryState,
    Waiting,
    summarize,
)
from summary_projector.handlers import ProjectionService
from summary_projector.ports import SiteRecord, SummaryStore, WriteConflict
from summary_projector.read_model import rebuild

from tests.support.mongo import StandInDatabase, fresh_database, mongo_kind
from tests.unit.summary_projector.workload import SITE, Workload

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 25, 9, 0, 0, 123456, tzinfo=UTC)


@asynccontextmanager
async def mongo_store() -> AsyncIterator[MongoSummaryStore]:
    async with fresh_database() as database:
        store = MongoSummaryStore(database)
        await store.ensure_indexes()
        yield store


@asynccontextmanager
async def sqlite_store() -> AsyncIterator[SqliteSummaryStore]:
    with tempfile.TemporaryDirectory() as folder:
        store = SqliteSummaryStore(Path(folder) / "summary-projector.sqlite3")
        try:
            yield store
        finally:
            await store.close()


@pytest.fixture(params=["memory", "sqlite", "mongo"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[SummaryStore]:
    if request.param == "memory":
        yield MemorySummaryStore()
        return
    if request.param == "sqlite":
        async with sqlite_store() as embedded:
            yield embedded
        return
    print(f"\nSummary store tests run against: {mongo_kind()}")
    async with mongo_store() as found:
        yield found


def a_busy_state() -> SummaryState:
    ids = [uuid.UUID(int=n) for n in range(1, 6)]
    return SummaryState(
        site_id=SITE,
        sessions={
            ids[0]: Session("ann", Channel.CHAT),
            ids[1]: Session("dot.e", Channel.CALL, on_hold=True),
        },
        waiting={"v1": Waiting(Channel.CHAT, T0), "v.2": Waiting(Channel.CALL, T0)},
        offers={
            ids[2]: Offer("ann", "v3", Channel.CHAT),
            ids[3]: Offer("dot.e", "v4", Channel.CHAT, invitation=True),
        },
        messages={ids[4]: T0 + timedelta(microseconds=1)},
        operators={
            "ann": OperatorStatus(Presence.ONLINE),
            "dot.e": OperatorStatus(
                Presence.AWAY, max_chats=5, own_max_chats=5, presence_reason="disconnected"
            ),
        },
        max_chats=SiteMaxChats(4, from_default=False),
    )


def queued(visitor: str, seconds: float = 0) -> VisitorQueued:
    moment = T0 + timedelta(seconds=seconds)
    return VisitorQueued(
        site_id=SITE, visitor_id=visitor, channel=Channel.CHAT, waiting_since=T0, occurred_at=moment
    )


async def test_a_site_never_heard_of_has_an_empty_record(store: SummaryStore) -> None:
    assert await store.load("nowhere") == SiteRecord.empty("nowhere")


async def test_a_record_comes_back_exactly_as_it_was_saved(store: SummaryStore) -> None:
    record = SiteRecord.empty(SITE).after("e1", a_busy_state())
    await store.save(record, expected_version=0)
    assert await store.load(SITE) == record
    later = record.after("e2", SummaryState(SITE))
    await store.save(later, expected_version=1)
    assert await store.load(SITE) == later


async def test_a_save_computed_from_a_stale_version_is_a_conflict(store: SummaryStore) -> None:
    first = SiteRecord.empty(SITE).after("e1", a_busy_state())
    await store.save(first, expected_version=0)
    with pytest.raises(WriteConflict):
        await store.save(SiteRecord.empty(SITE).after("e2", SummaryState(SITE)), 0)
    await store.save(first.after("e2", SummaryState(SITE)), expected_version=1)
    with pytest.raises(WriteConflict):
        await store.save(first.after("e3", a_busy_state()), expected_version=1)
    assert (await store.load(SITE)).recent == ("e1", "e2")


async def test_an_event_the_stored_record_holds_is_never_saved_again(store: SummaryStore) -> None:
    first = SiteRecord.empty(SITE).after("e1", a_busy_state())
    await store.save(first, expected_version=0)
    with pytest.raises(WriteConflict):
        await store.save(first.after("e1", SummaryState(SITE)), expected_version=1)


async def test_each_event_is_archived_once(store: SummaryStore) -> None:
    event = queued("v1")
    assert not await store.is_archived(str(event.event_id))
    assert await store.archive(event) is True
    assert await store.archive(event) is False
    assert await store.is_archived(str(event.event_id))
    assert [e async for e in store.replay()] == [event]


async def test_the_archive_replays_by_occurred_at_then_in_archive_order(
    store: SummaryStore,
) -> None:
    late, same_a, same_b, early = queued("late", 5), queued("a", 1), queued("b", 1), queued("e")
    tiny = queued("tiny", 0.000001)  # BSON dates keep milliseconds; the order keeps microseconds
    for event in (late, same_a, same_b, tiny, early):
        await store.archive(event)
    replayed = [e async for e in store.replay()]
    assert replayed == [early, tiny, same_a, same_b, late]


async def test_dropping_the_summaries_keeps_the_archive(store: SummaryStore) -> None:
    assert (await store.has_summaries(), await store.has_archive()) == (False, False)
    await store.save(SiteRecord.empty(SITE).after("e1", a_busy_state()), expected_version=0)
    await store.archive(queued("v1"))
    assert (await store.has_summaries(), await store.has_archive()) == (True, True)
    await store.drop_summaries()
    assert await store.load(SITE) == SiteRecord.empty(SITE)
    assert (await store.has_summaries(), await store.has_archive()) == (False, True)
    assert len([e async for e in store.replay()]) == 1


async def test_on_this_store_each_event_counts_once_and_a_rebuild_agrees(
    store: SummaryStore,
) -> None:
    events = Workload(seed=11).run(150)
    reference = ProjectionService(MemorySummaryStore(), lambda: T0)
    for event in events:
        await reference.project(event)
    expected = await reference.store.load(SITE)
    projector = ProjectionService(store, lambda: T0)
    for event in [e for e in events for _ in range(2)]:
        await projector.project(event)
    assert await store.load(SITE) == expected
    await projector.project(
        VisitorAbandoned(site_id=SITE, visitor_id="nobody", channel=Channel.CHAT, waited_seconds=0)
    )
    rebuilt = await rebuild(store)
    assert rebuilt.events == len(events) + 1
    assert await store.load(SITE) == expected
    assert summarize((await store.load(SITE)).state) == summarize(expected.state)


def test_the_rebuild_command_replaces_a_wrong_read_model_with_the_replayed_archive(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database = StandInDatabase()  # the command's wiring is under test here, not the store
    events = Workload(seed=3).run(80)

    async def project_then_spoil() -> SiteRecord:
        store = MongoSummaryStore(database)
        projector = ProjectionService(store, lambda: T0)
        for event in events:
            await projector.project(event)
        expected = await store.load(SITE)
        await store.drop_summaries()
        await store.save(SiteRecord.empty(SITE).after("wrong", a_busy_state()), 0)
        return expected

    expected = asyncio.run(project_then_spoil())
    monkeypatch.setenv("MONGO_URL", "mongodb://stand-in")
    monkeypatch.setattr(rebuild_command, "build_store", lambda _: MongoSummaryStore(database))
    assert rebuild_command.main([]) == 0
    assert f"rebuilt 1 site summaries from {len(events)} archived events" in capsys.readouterr().out
    assert asyncio.run(MongoSummaryStore(database).load(SITE)) == expected
