"""Build each routing-journal adapter for the one contract suite that runs against all of them."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from pymongo import AsyncMongoClient
from queue_manager.adapters.file_journal import FileJournal
from queue_manager.adapters.memory_journal import MemoryJournal
from queue_manager.adapters.mongo_journal import MongoJournal
from queue_manager.ports import RoutingJournal

from tests.support.mongo import StandInDatabase, mongo_kind


@asynccontextmanager
async def mongo_journal() -> AsyncIterator[MongoJournal]:
    kind = mongo_kind()
    if kind.startswith("in-process"):
        journal = MongoJournal(StandInDatabase())
        await journal.ensure_indexes()
        yield journal
        return
    if os.environ.get("MONGO_URL"):
        url = os.environ["MONGO_URL"]
        container = None
    else:
        from testcontainers.mongodb import MongoDbContainer

        container = MongoDbContainer("mongo:7").start()
        url = container.get_connection_url()
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(url, tz_aware=True)
    database = client[f"livechat_test_{uuid.uuid4().hex[:8]}"]
    journal = MongoJournal(database)
    await journal.ensure_indexes()
    try:
        yield journal
    finally:
        await client.drop_database(database.name)
        await client.close()
        if container is not None:
            container.stop()


@asynccontextmanager
async def journal_of(kind: str, tmp_path: Path) -> AsyncIterator[RoutingJournal]:
    if kind == "memory":
        yield MemoryJournal()
    elif kind == "file":
        file_journal = FileJournal(tmp_path / "journal.jsonl")
        yield file_journal
        await file_journal.close()
    else:
        async with mongo_journal() as journal:
            yield journal
