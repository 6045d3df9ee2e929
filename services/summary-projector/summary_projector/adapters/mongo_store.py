"""The summary store in MongoDB (production): one document per site, one per archived event.

A batch is two bulk writes, in this order: the changed site documents (ordered, each update
conditional on the version it was computed from), then the archived events (unordered; an event
archived before is skipped by its _id). A conflict stops the first and skips the second, so an
event is never archived before its summary change is stored.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Collection, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from livechat_shared.contracts import Event, parse_message
from pymongo import ASCENDING, InsertOne, UpdateOne
from pymongo.errors import BulkWriteError, OperationFailure

from summary_projector.adapters.documents import decode_state, encode_state
from summary_projector.ports import Save, SiteRecord, WriteConflict

SUMMARIES = "communication_summary"
ARCHIVE = "event_archive"
RETENTION_INDEX = "retention"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DUPLICATE_KEY = 11000


class MongoSummaryStore:
    """`database` is a pymongo AsyncDatabase (or anything with the same async surface)."""

    def __init__(
        self, database: Any, close: Any = None, retention: timedelta | None = None
    ) -> None:
        self._summaries = database[SUMMARIES]
        self._archive = database[ARCHIVE]
        self._close = close
        self._last_arrival = 0
        self.retention = retention

    async def ensure_indexes(self) -> None:
        # The archive is unique on the event id by being its _id; replays read it in this order.
        await self._archive.create_index(
            [("occurred_us", ASCENDING), ("arrival", ASCENDING)], name="replay_order"
        )
        if self.retention is not None:
            await self._expire_after(int(self.retention.total_seconds()))

    async def _expire_after(self, seconds: int) -> None:
        """MongoDB drops archived events `seconds` after they occurred (its TTL monitor runs
        every minute). A changed retention replaces the index: its options cannot be altered."""
        try:
            await self._archive.create_index(
                [("occurred_at", ASCENDING)], name=RETENTION_INDEX, expireAfterSeconds=seconds
            )
        except OperationFailure:
            await self._archive.drop_index(RETENTION_INDEX)
            await self._archive.create_index(
                [("occurred_at", ASCENDING)], name=RETENTION_INDEX, expireAfterSeconds=seconds
            )

    async def load(self, site_id: str) -> SiteRecord:
        doc = await self._summaries.find_one({"_id": site_id})
        if doc is None:
            return SiteRecord.empty(site_id)
        return SiteRecord(decode_state(site_id, doc["state"]), doc["version"], tuple(doc["recent"]))

    async def commit(self, saves: Sequence[Save], events: Sequence[Event]) -> set[str]:
        if saves:
            await self._save_all(saves)
        if not events:
            return set()
        docs = {str(e.event_id): self._archived_doc(e) for e in events}
        try:
            await self._archive.insert_many(list(docs.values()), ordered=False)
        except BulkWriteError as error:
            errors = error.details.get("writeErrors", [])
            if any(e.get("code") != _DUPLICATE_KEY for e in errors):
                raise
            return set(docs) - {str(e["op"]["_id"]) for e in errors}
        return set(docs)

    async def _save_all(self, saves: Sequence[Save]) -> None:
        operations: list[InsertOne[Any] | UpdateOne] = []
        for save in saves:
            record = save.record
            body = {
                "version": record.version,
                "recent": list(record.recent),
                "state": encode_state(record.state),
            }
            if save.check_only:
                # matched only if still at the version read (nothing changes); a site never
                # stored is not checked (MongoDB has no "no such document" condition here)
                if save.expected_version:
                    version = {"version": save.expected_version}
                    operations.append(
                        UpdateOne({"_id": record.site_id, **version}, {"$set": version})
                    )
                continue
            if save.expected_version == 0:
                operations.append(InsertOne({"_id": record.site_id, **body}))
                continue
            query: dict[str, Any] = {"_id": record.site_id, "version": save.expected_version}
            if record.recent:
                query["recent"] = {"$ne": record.recent[-1]}
            operations.append(UpdateOne(query, {"$set": body}))
        if not operations:
            return
        try:
            result = await self._summaries.bulk_write(operations, ordered=True)
        except BulkWriteError as error:
            if any(e.get("code") != _DUPLICATE_KEY for e in error.details.get("writeErrors", [])):
                raise
            # an insert found the site stored already: another writer was first
            raise WriteConflict(", ".join(s.record.site_id for s in saves)) from error
        if result.inserted_count + result.matched_count < len(operations):
            raise WriteConflict(", ".join(s.record.site_id for s in saves))

    async def save(self, record: SiteRecord, expected_version: int) -> None:
        await self.commit([Save(record, expected_version)], [])

    async def archive(self, event: Event) -> bool:
        return bool(await self.commit([], [event]))

    def _archived_doc(self, event: Event) -> dict[str, Any]:
        return {
            "_id": str(event.event_id),
            "site_id": event.site_id,
            "type": event.type_name(),
            "occurred_at": event.occurred_at,
            # Exact order key: BSON dates keep only milliseconds.
            "occurred_us": (event.occurred_at - _EPOCH) // timedelta(microseconds=1),
            "arrival": self._next_arrival(),
            "event": event.model_dump(mode="json"),
        }

    def _next_arrival(self) -> int:
        # Events of one decision share occurred_at; this keeps them in the order consumed.
        self._last_arrival = max(time.time_ns(), self._last_arrival + 1)
        return self._last_arrival

    async def is_archived(self, event_id: str) -> bool:
        return await self._archive.find_one({"_id": event_id}, {"_id": 1}) is not None

    async def archived_among(self, event_ids: Collection[str]) -> set[str]:
        if not event_ids:
            return set()
        cursor = self._archive.find({"_id": {"$in": list(event_ids)}}, {"_id": 1})
        return {str(doc["_id"]) async for doc in cursor}

    async def replay(self) -> AsyncIterator[Event]:
        cursor = self._archive.find({}, {"event": 1}).sort(
            [("occurred_us", ASCENDING), ("arrival", ASCENDING)]
        )
        async for doc in cursor:
            event = parse_message(doc["event"])
            assert isinstance(event, Event)
            yield event

    async def drop_summaries(self) -> None:
        await self._summaries.delete_many({})

    async def has_summaries(self) -> bool:
        return await self._summaries.find_one({}, {"_id": 1}) is not None

    async def has_archive(self) -> bool:
        return await self._archive.find_one({}, {"_id": 1}) is not None

    async def close(self) -> None:
        if self._close is not None:
            await self._close()
