"""The journal in MongoDB (production): one document per decision, keyed by the message id."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC
from typing import Any

from pymongo import ASCENDING
from pymongo.errors import BulkWriteError, DuplicateKeyError

from queue_manager.ports import DuplicateEntry, JournalEntry

COLLECTION = "routing_journal"


def partition_collection(partition: int) -> str:
    """Partition `partition`'s collection when the sites are partitioned (PARTITIONS > 1)."""
    return f"{COLLECTION}_p{partition}"


class MongoJournal:
    """`database` is a pymongo AsyncDatabase (or anything with the same async surface)."""

    def __init__(self, database: Any, close: Any = None, collection: str = COLLECTION) -> None:
        self._entries = database[collection]
        self._close = close

    async def open(self) -> None:
        await self.ensure_indexes()

    async def ensure_indexes(self) -> None:
        # A second writer (a replica that wrongly thinks it is active) collides here.
        await self._entries.create_index(
            [("site_id", ASCENDING), ("seq", ASCENDING)], unique=True, name="site_seq"
        )

    async def append(self, entry: JournalEntry) -> None:
        await self.append_many([entry])

    async def append_many(self, entries: Sequence[JournalEntry]) -> None:
        """One ordered insert: the documents before a duplicate are stored, none after it."""
        try:
            await self._entries.insert_many([_document(entry) for entry in entries], ordered=True)
        except DuplicateKeyError as error:
            raise DuplicateEntry(str(error)) from error
        except BulkWriteError as error:
            duplicates = [e for e in error.details.get("writeErrors", []) if e.get("code") == 11000]
            if not duplicates:
                raise
            raise DuplicateEntry(str(duplicates[0].get("keyValue", ""))) from error

    async def get(self, message_id: str) -> JournalEntry | None:
        doc = await self._entries.find_one({"_id": message_id})
        return None if doc is None else _entry(doc)

    async def replay(self) -> AsyncIterator[JournalEntry]:
        cursor = self._entries.find({}).sort([("site_id", ASCENDING), ("seq", ASCENDING)])
        async for doc in cursor:
            yield _entry(doc)

    async def close(self) -> None:
        if self._close is not None:
            await self._close()


def _document(entry: JournalEntry) -> dict[str, Any]:
    return {
        "_id": entry.message_id,
        "site_id": entry.site_id,
        "seq": entry.seq,
        "recorded_at": entry.recorded_at,
        "message": entry.message,
        "events": entry.events,
    }


def _entry(doc: dict[str, Any]) -> JournalEntry:
    recorded_at = doc["recorded_at"]
    if recorded_at.tzinfo is None:  # BSON dates come back naive unless tz_aware is set
        recorded_at = recorded_at.replace(tzinfo=UTC)
    return JournalEntry(
        message_id=doc["_id"],
        site_id=doc["site_id"],
        seq=doc["seq"],
        recorded_at=recorded_at,
        message=doc["message"],
        events=doc["events"],
    )
