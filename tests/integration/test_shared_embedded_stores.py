"""Partitioned replicas on one machine share their embedded store's file (REPLICAS > 1): two
processes write it together without losing a write, a process that wants it alone is still
refused, and each store sees at once what the other replica committed (a takeover, a read
answered by the replica that does not apply the site)."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from livechat_shared.contracts import Channel
from livechat_shared.runtime.embedded import EmbeddedDatabase, EmbeddedStoreLocked
from offline_messages.adapters.sqlite_store import SqliteMessageStore
from offline_messages.main import build_store as build_offline_store
from offline_messages.settings import OfflineMessagesSettings
from session_service.adapters.sqlite_store import SqliteSessionStore
from session_service.domain import Session
from session_service.ports import Outcome, StaleSession
from summary_projector.adapters.memory_store import MemorySummaryStore
from summary_projector.adapters.sqlite_store import SqliteSummaryStore
from summary_projector.changes import Changes
from summary_projector.handlers import ProjectionService
from summary_projector.ports import SiteRecord
from summary_projector.queries import SummaryQueries

from tests.unit.summary_projector.events import SITE as EVENTS_SITE
from tests.unit.summary_projector.events import ended, started
from tests.unit.summary_projector.workload import SITE, Workload

pytestmark = pytest.mark.integration

T0 = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
SCHEMA = "CREATE TABLE IF NOT EXISTS counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL);"

_INCREMENTS = f"""
import asyncio, sys
from pathlib import Path
from livechat_shared.runtime.embedded import EmbeddedDatabase

async def main(path: str, times: int) -> None:
    database = EmbeddedDatabase(Path(path), {SCHEMA!r}, shared=True)
    def increment(db):  # read, then write: lost updates show unless each is one transaction
        (n,) = db.execute("SELECT n FROM counter WHERE id = 1").fetchone()
        db.execute("UPDATE counter SET n = ? WHERE id = 1", (n + 1,))
    for _ in range(times):
        await database.write(increment)
    await database.close()

asyncio.run(main(sys.argv[1], int(sys.argv[2])))
"""


def test_two_processes_share_the_file_and_lose_no_write(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript(SCHEMA)
        db.execute("INSERT INTO counter VALUES (1, 0)")
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", _INCREMENTS, str(path), "300"],
            env=os.environ,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    for writer in writers:
        _, error = writer.communicate(timeout=120)
        assert writer.returncode == 0, error.decode()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT n FROM counter").fetchone() == (600,)


async def test_a_process_wanting_the_file_alone_is_refused_while_replicas_share_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "shared.sqlite3"
    first = EmbeddedDatabase(path, SCHEMA, shared=True)
    second = EmbeddedDatabase(path, SCHEMA, shared=True)
    with pytest.raises(EmbeddedStoreLocked, match="only one process may use it"):
        EmbeddedDatabase(path, SCHEMA)
    await first.close()
    await second.close()
    alone = EmbeddedDatabase(path, SCHEMA)
    with pytest.raises(EmbeddedStoreLocked, match="a process uses it alone"):
        EmbeddedDatabase(path, SCHEMA, shared=True)
    await alone.close()


def test_the_store_is_shared_only_when_the_service_runs_as_several_replicas(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MONGO_URL", raising=False)
    path = tmp_path / "offline.sqlite3"

    def store(replicas: int, ordinal: int) -> SqliteMessageStore:
        built = build_offline_store(
            OfflineMessagesSettings(store_path=path, replicas=replicas, replica_ordinal=ordinal)
        )
        assert isinstance(built, SqliteMessageStore)
        return built

    first = store(2, 0)
    second = store(2, 1)
    asyncio.run(first.close())
    asyncio.run(second.close())
    alone = store(1, 0)
    with pytest.raises(EmbeddedStoreLocked):
        store(1, 0)  # an accidental second `make run`
    asyncio.run(alone.close())


async def test_a_session_saved_by_the_other_replica_makes_a_stale_save_fail(
    tmp_path: Path,
) -> None:
    path = tmp_path / "sessions.sqlite3"
    mine, theirs = SqliteSessionStore(path, shared=True), SqliteSessionStore(path, shared=True)
    ada = Session(uuid.uuid4(), "acme", "v-ada", "ann", Channel.CHAT, T0)
    await mine.add(ada)
    read_before = await mine.get("acme", ada.session_id)
    assert read_before is not None
    current = await theirs.get("acme", ada.session_id)
    assert current is not None
    await theirs.save(current, current.session, Outcome("m-1", []))  # the other replica wrote
    with pytest.raises(StaleSession):
        await mine.save(read_before, read_before.session, Outcome("m-2", []))
    await mine.close()
    await theirs.close()


async def test_projectors_taking_a_site_over_from_each_other_count_every_event_once(
    tmp_path: Path,
) -> None:
    """Replica A applies a site, B takes it over (A died or handed it back) and also gets
    redeliveries of what A applied last, then A gets it back: the summary is the one a single
    projector makes, and A's reads show what B applied."""
    path = tmp_path / "summary.sqlite3"
    a, b = SqliteSummaryStore(path, shared=True), SqliteSummaryStore(path, shared=True)
    events = Workload(seed=15).run(150)
    reference = MemorySummaryStore()
    for event in events:
        await ProjectionService(reference, lambda: T0).project(event)
    projector_a, projector_b = (
        ProjectionService(a, lambda: T0),
        ProjectionService(b, lambda: T0),
    )

    assert len(await projector_a.project_all(events[:50])) == 50
    assert await a.load(SITE) == await b.load(SITE)
    # B takes over: what A applied last comes again (unacked when A went), then new events
    applied_by_b = await projector_b.project_all(events[40:100])
    assert applied_by_b == events[50:100]
    assert (await a.load(SITE)).version == (await b.load(SITE)).version
    # A gets the site back: B's last ones again, then the rest
    assert await projector_a.project_all(events[90:]) == events[100:]
    expected = await reference.load(SITE)
    for store in (a, b):
        assert (await store.load(SITE)).state == expected.state
        assert await store.archived_among({str(e.event_id) for e in events}) == {
            str(e.event_id) for e in events
        }
    await a.close()
    await b.close()


async def test_a_summary_stream_on_one_replica_shows_what_the_other_applies(
    tmp_path: Path,
) -> None:
    path = tmp_path / "summary.sqlite3"
    applying, serving = SqliteSummaryStore(path, shared=True), SqliteSummaryStore(path, shared=True)
    events = Workload(seed=16).run(40)
    projector = ProjectionService(applying, lambda: T0)
    await projector.project_all(events[:20])
    queries = SummaryQueries(serving, Changes(), lambda: T0, poll_seconds=0.05)
    stream = queries.follow(SITE)
    async with asyncio.timeout(5):
        first_version, _ = await anext(stream)
        await projector.project_all(events[20:])  # applied by the other replica's projector
        newest = (await applying.load(SITE)).version
        assert newest > first_version
        version = first_version
        while version < newest:
            version, _ = await anext(stream)
    assert version == newest
    await stream.aclose()
    await applying.close()
    await serving.close()


async def test_a_replica_reads_its_own_last_write_and_the_others(tmp_path: Path) -> None:
    """The first partitioned fault run's projector replica (restarted on a store edited during
    the run) read each site from the records it had loaded, which its own writes never updated:
    its reads stayed one write behind, and the end of a chat it had just seen start changed
    nothing (docs: README, Reliability). A replica's reads show its own last write and the
    other replica's."""
    path = tmp_path / "summary.sqlite3"
    mine, theirs = SqliteSummaryStore(path, shared=True), SqliteSummaryStore(path, shared=True)
    chat = started(uuid.uuid4(), "v1", "ann")
    await ProjectionService(mine, lambda: T0).project(chat)
    assert len((await mine.load(EVENTS_SITE)).state.sessions) == 1
    assert await ProjectionService(mine, lambda: T0).project(ended(chat))
    assert (await mine.load(EVENTS_SITE)).state.sessions == {}
    assert (await mine.load(EVENTS_SITE)).version == 2
    again = started(uuid.uuid4(), "v2", "ann")
    await ProjectionService(theirs, lambda: T0).project(again)
    assert (await mine.load(EVENTS_SITE)).version == 3
    await mine.close()
    await theirs.close()


class ReadBeforeTheOtherWrote(SqliteSummaryStore):
    """A replica whose first read of the site came just before the other replica's commit."""

    def __init__(self, path: Path, stale: SiteRecord) -> None:
        super().__init__(path, shared=True)
        self.stale: SiteRecord | None = stale

    async def load(self, site_id: str) -> SiteRecord:
        if self.stale is not None:
            stale, self.stale = self.stale, None
            return stale
        return await super().load(site_id)


async def test_an_event_that_changed_nothing_on_a_stale_read_is_applied_again(
    tmp_path: Path,
) -> None:
    """The end of a chat read against a record from before its start changes nothing: it
    must not be archived as applied while the stored site has moved on (the chat would show in
    progress for ever); the write conflicts and the batch is applied to the stored site."""
    path = tmp_path / "summary.sqlite3"
    first = SqliteSummaryStore(path, shared=True)
    before = await first.load(EVENTS_SITE)
    second = ReadBeforeTheOtherWrote(path, stale=before)
    chat = started(uuid.uuid4(), "v1", "ann")
    await ProjectionService(first, lambda: T0).project(chat)
    assert await ProjectionService(second, lambda: T0).project(ended(chat))
    stored = await first.load(EVENTS_SITE)
    assert stored.state.sessions == {}
    assert stored.version == 2
    await first.close()
    await second.close()
