"""The projector's event archive is bounded by retention: MongoDB drops old events by a TTL
index, the memory store prunes as it archives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from livechat_shared.contracts import VisitorBrowsing
from pymongo.errors import OperationFailure
from summary_projector.adapters.memory_store import MemorySummaryStore
from summary_projector.adapters.mongo_store import ARCHIVE, RETENTION_INDEX, MongoSummaryStore
from summary_projector.main import build_store
from summary_projector.settings import SummaryProjectorSettings

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def beat(minutes: float) -> VisitorBrowsing:
    return VisitorBrowsing(
        site_id="acme",
        visitor_id=f"v{minutes}",
        page="https://shop.example.com/",
        occurred_at=T0 + timedelta(minutes=minutes),
    )


async def test_the_memory_archive_keeps_one_retention_window() -> None:
    store = MemorySummaryStore(retention=timedelta(hours=1))
    old = [beat(m) for m in range(0, 60, 5)]
    for event in old:
        assert await store.archive(event)
    assert await store.is_archived(str(old[0].event_id))
    newest = beat(125)
    await store.archive(newest)
    assert not await store.is_archived(str(old[-1].event_id))  # 70 minutes before the newest
    assert [e.event_id async for e in store.replay()] == [newest.event_id]


async def test_without_retention_the_memory_archive_keeps_everything() -> None:
    store = MemorySummaryStore()
    for m in range(0, 600, 60):
        await store.archive(beat(m))
    assert len([e async for e in store.replay()]) == 10


class RecordingCollection:
    def __init__(self, existing: dict[str, int] | None = None) -> None:
        self.indexes: dict[str, dict[str, Any]] = {
            name: {"expireAfterSeconds": s} for name, s in (existing or {}).items()
        }

    async def create_index(self, keys: Any, name: str, **options: Any) -> str:
        if name in self.indexes and self.indexes[name] != options:
            raise OperationFailure("IndexOptionsConflict", code=85)
        self.indexes[name] = {"keys": keys, **options}
        return name

    async def drop_index(self, name: str) -> None:
        del self.indexes[name]


async def test_mongo_expires_archived_events_by_a_ttl_index_that_follows_the_setting() -> None:
    archive = RecordingCollection(existing={RETENTION_INDEX: 60})
    database = {"communication_summary": RecordingCollection(), ARCHIVE: archive}
    store = MongoSummaryStore(database, retention=timedelta(days=7))
    await store.ensure_indexes()
    ttl = archive.indexes[RETENTION_INDEX]
    assert ttl["keys"] == [("occurred_at", 1)]
    assert ttl["expireAfterSeconds"] == 7 * 24 * 3600


def test_stores_are_built_with_the_retention_setting() -> None:
    store = build_store(SummaryProjectorSettings(archive_retention_seconds=7200, mongo_url=None))
    assert getattr(store, "retention", None) == timedelta(hours=2)
