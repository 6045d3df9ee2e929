"""Build each routing-journal adapter for the one contract suite that runs against all of them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from queue_manager.adapters.file_journal import FileJournal
from queue_manager.adapters.memory_journal import MemoryJournal
from queue_manager.adapters.mongo_journal import MongoJournal
from queue_manager.ports import RoutingJournal

from tests.support.mongo import fresh_database


@asynccontextmanager
async def mongo_journal() -> AsyncIterator[MongoJournal]:
    async with fresh_database() as database:
        store = MongoJournal(database)
        await store.ensure_indexes()
        yield store


@asynccontextmanager
async def journal_of(kind: str, tmp_path: Path) -> AsyncIterator[RoutingJournal]:
    if kind == "memory":
        yield MemoryJournal()
    elif kind == "file":
        file_journal = FileJournal(tmp_path / "journal.jsonl")
        await file_journal.open()
        yield file_journal
        await file_journal.close()
    else:
        async with mongo_journal() as journal:
            yield journal
