"""The embedded stores (SQLite in `.data/`): what is written survives reopening, one process per
file, and a projector that starts on an empty read model rebuilds it from its archive."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from livechat_shared.contracts import Channel, ChatMessagePosted
from livechat_shared.runtime.embedded import EmbeddedStoreLocked
from offline_messages.adapters.sqlite_store import SqliteMessageStore
from offline_messages.domain import OfflineMessage
from session_service.adapters.sqlite_store import SqliteSessionStore
from session_service.domain import Session
from summary_projector import rebuild as rebuild_command
from summary_projector.adapters import sqlite_store as summary_sqlite
from summary_projector.adapters.memory_store import MemorySummaryStore
from summary_projector.adapters.sqlite_store import SqliteSummaryStore
from summary_projector.handlers import ProjectionService
from summary_projector.ports import SiteRecord
from summary_projector.read_model import start_read_model

from tests.unit.summary_projector.workload import SITE, Workload

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 30, 9, 0, 0, 123456, tzinfo=UTC)


async def test_sessions_and_transcripts_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "sessions.sqlite3"
    ada = Session(uuid.uuid4(), "acme", "v-ada", "ann", Channel.CHAT, T0)
    posted = ChatMessagePosted(
        occurred_at=T0,
        correlation_id="c",
        site_id="acme",
        session_id=ada.session_id,
        seq=1,
        author="visitor",
        client_message_id="c-1",
        text="hello",
        visitor_id="v-ada",
        operator_id="ann",
    )
    first = SqliteSessionStore(path)
    await first.add(ada)
    await first.append_message(posted)
    await first.close()
    again = SqliteSessionStore(path)
    stored = await again.get("acme", ada.session_id)
    assert stored is not None and stored.session.last_seq == 1
    assert await again.messages("acme", ada.session_id, 0, 10) == [posted]
    assert await again.operator_sessions("acme", "ann") == [stored.session]
    await again.close()


async def test_offline_messages_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "offline.sqlite3"
    left = [
        OfflineMessage(uuid.uuid4(), "acme", f"v{n}", "Ada", "a@example.com", "hi", T0)
        for n in range(3)
    ]
    first = SqliteMessageStore(path)
    for message in left:
        await first.add(message)
    await first.close()
    again = SqliteMessageStore(path)
    assert len(await again.messages("acme", ["waiting"], 10)) == 3
    await again.close()


def test_a_second_opener_is_refused_with_the_path_until_the_first_closes(tmp_path: Path) -> None:
    path = tmp_path / "offline.sqlite3"
    first = SqliteMessageStore(path)
    with pytest.raises(EmbeddedStoreLocked, match=str(path)):
        SqliteMessageStore(path)
    asyncio.run(first.close())
    asyncio.run(SqliteMessageStore(path).close())


async def test_the_archive_replays_in_order_across_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(summary_sqlite, "REPLAY_BATCH", 7)
    events = Workload(seed=5).run(60)
    reference = MemorySummaryStore()
    store = SqliteSummaryStore(tmp_path / "summary.sqlite3")
    for event in events:
        await reference.archive(event)
        await store.archive(event)
    assert [e async for e in store.replay()] == [e async for e in reference.replay()]
    await store.close()


async def test_pruning_forgets_archived_events_older_than_the_cutoff(tmp_path: Path) -> None:
    events = Workload(seed=6).run(40)
    store = SqliteSummaryStore(tmp_path / "summary.sqlite3")
    for event in events:
        await store.archive(event)
    cutoff = sorted(e.occurred_at for e in events)[20]
    assert await store.prune(cutoff) == sum(e.occurred_at < cutoff for e in events)
    assert all(e.occurred_at >= cutoff for e in [e async for e in store.replay()])
    await store.close()


async def test_a_projector_starting_on_an_empty_read_model_rebuilds_it_from_the_archive(
    tmp_path: Path,
) -> None:
    path = tmp_path / "summary.sqlite3"
    store = SqliteSummaryStore(path)
    assert (await start_read_model(store)).from_nothing
    projector = ProjectionService(store, lambda: T0)
    for event in Workload(seed=8).run(120):
        await projector.project(event)
    expected = await store.load(SITE)
    assert (await start_read_model(store)).kept
    await store.drop_summaries()  # e.g. a read model lost, or an old file without summaries
    await store.close()

    store = SqliteSummaryStore(path)
    started = await start_read_model(store)
    assert started.rebuilt is not None and started.rebuilt.sites == 1
    assert await store.load(SITE) == expected
    await store.close()


def test_the_rebuild_command_works_on_the_embedded_store_once_the_projector_is_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "summary.sqlite3"
    monkeypatch.delenv("MONGO_URL", raising=False)
    monkeypatch.setenv("SUMMARY_PROJECTOR_STORE_PATH", str(path))
    events = Workload(seed=3).run(50)

    async def project_then_spoil(store: SqliteSummaryStore) -> SiteRecord:
        for event in events:
            await ProjectionService(store, lambda: T0).project(event)
        expected = await store.load(SITE)
        await store.drop_summaries()
        await store.save(SiteRecord.empty(SITE).after("wrong", expected.state), 0)
        return expected

    running = SqliteSummaryStore(path)
    expected = asyncio.run(project_then_spoil(running))
    assert rebuild_command.main([]) == 2, "refused while a projector has the file open"
    asyncio.run(running.close())
    assert rebuild_command.main([]) == 0
    assert f"from {len(events)} archived events" in capsys.readouterr().out

    async def load() -> SiteRecord:
        store = SqliteSummaryStore(path)
        try:
            return await store.load(SITE)
        finally:
            await store.close()

    assert asyncio.run(load()) == expected


def test_instants_survive_to_the_microsecond() -> None:
    from livechat_shared.runtime.embedded import from_micros, to_micros

    for moment in (T0, T0 + timedelta(microseconds=1), datetime(1969, 12, 31, tzinfo=UTC)):
        assert from_micros(to_micros(moment)) == moment
