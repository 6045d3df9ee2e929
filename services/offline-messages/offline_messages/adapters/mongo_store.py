"""The Message Queue in MongoDB (production): one document per offline message, keyed by its id.

Next message is one find_one_and_update on the oldest waiting document, so two operators (or
two replicas) racing for it can never both get it: MongoDB applies the update to one only.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from offline_messages.adapters import mongo_documents as docs
from offline_messages.domain import WAITING, OfflineMessage, Status
from offline_messages.domain.rules import next_message_claim
from offline_messages.ports import (
    OUTCOMES_KEPT,
    DuplicateTake,
    Outcome,
    StaleMessage,
    StoredMessage,
)

COLLECTION = "offline_messages"
_OLDEST_FIRST = [("left_at", ASCENDING), ("_id", ASCENDING)]


class MongoMessageStore:
    """`database` is a pymongo AsyncDatabase (or anything with the same async surface)."""

    def __init__(self, database: Any, close: Callable[[], Awaitable[None]] | None = None) -> None:
        self._messages = database[COLLECTION]
        self._close = close

    async def ensure_indexes(self) -> None:
        # Serves Next message and the queue listing: equality on site and status, then the
        # order; _id last breaks ties the way the queue does, so no in-memory sort is needed.
        await self._messages.create_index(
            [("site_id", ASCENDING), ("status", ASCENDING), *_OLDEST_FIRST],
            name="site_status_left_at",
        )
        # One command takes at most one message, even if two copies of it race.
        await self._messages.create_index(
            [("take_command_id", ASCENDING)],
            unique=True,
            partialFilterExpression={"take_command_id": {"$type": "string"}},
            name="take_command",
        )

    async def add(self, message: OfflineMessage) -> bool:
        try:
            await self._messages.insert_one(docs.document(message))
        except DuplicateKeyError:
            return False
        return True

    async def get(self, site_id: str, offline_message_id: uuid.UUID) -> StoredMessage | None:
        doc = await self._messages.find_one({"_id": str(offline_message_id), "site_id": site_id})
        return None if doc is None else docs.stored(doc)

    async def take_next(
        self, site_id: str, operator_id: str, command_id: uuid.UUID, now: datetime
    ) -> OfflineMessage | None:
        # The domain's claim, made in one conditional write.
        claim = docs.claim(next_message_claim(operator_id, command_id, now))
        try:
            doc = await self._messages.find_one_and_update(
                {"site_id": site_id, "status": WAITING},
                {"$set": claim, "$inc": {"version": 1}},
                sort=_OLDEST_FIRST,
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError as error:
            raise DuplicateTake(str(command_id)) from error
        return None if doc is None else docs.message(doc)

    async def taken_by(self, site_id: str, command_id: uuid.UUID) -> OfflineMessage | None:
        doc = await self._messages.find_one(
            {"take_command_id": str(command_id), "site_id": site_id}
        )
        return None if doc is None else docs.message(doc)

    async def save(self, stored: StoredMessage, message: OfflineMessage, outcome: Outcome) -> None:
        doc = await self._messages.find_one_and_update(
            {"_id": str(stored.message.offline_message_id), "version": stored.version},
            {
                "$set": {
                    "status": message.status,
                    "operator_id": message.operator_id,
                    "reply": message.reply,
                },
                "$inc": {"version": 1},
                "$push": {
                    "outcomes": {
                        "$each": [{"command_id": outcome.command_id, "events": outcome.events}],
                        "$slice": -OUTCOMES_KEPT,
                    }
                },
            },
            projection={"_id": True},
        )
        if doc is None:
            raise StaleMessage(str(stored.message.offline_message_id))

    async def messages(
        self, site_id: str, statuses: Sequence[Status], limit: int
    ) -> list[OfflineMessage]:
        cursor = (
            self._messages.find({"site_id": site_id, "status": {"$in": list(statuses)}})
            .sort(_OLDEST_FIRST)
            .limit(limit)
        )
        return [docs.message(doc) async for doc in cursor]

    async def count_waiting(self, site_id: str | None = None) -> Mapping[str, int]:
        match: dict[str, Any] = {"status": WAITING}
        if site_id is not None:
            match["site_id"] = site_id
        cursor = await self._messages.aggregate(
            [{"$match": match}, {"$group": {"_id": "$site_id", "waiting": {"$sum": 1}}}]
        )
        return {doc["_id"]: doc["waiting"] async for doc in cursor}

    async def close(self) -> None:
        if self._close is not None:
            await self._close()
