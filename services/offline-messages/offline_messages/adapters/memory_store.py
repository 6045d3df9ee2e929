"""The Message Queue in memory: the fake the tests use (without MONGO_URL, SQLite is used).

Each method changes state without awaiting in between, so under asyncio every operation is
atomic, as the MongoDB store's single-document updates are.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from offline_messages.domain import WAITING, OfflineMessage, Status, taken
from offline_messages.ports import (
    OUTCOMES_KEPT,
    DuplicateTake,
    Outcome,
    StaleMessage,
    StoredMessage,
)


class MemoryMessageStore:
    def __init__(self) -> None:
        self._stored: dict[uuid.UUID, StoredMessage] = {}
        self._taken_by: dict[uuid.UUID, uuid.UUID] = {}  # command id -> message id

    async def add(self, message: OfflineMessage) -> bool:
        if message.offline_message_id in self._stored:
            return False
        self._stored[message.offline_message_id] = StoredMessage(message, version=1)
        return True

    async def get(self, site_id: str, offline_message_id: uuid.UUID) -> StoredMessage | None:
        stored = self._stored.get(offline_message_id)
        return stored if stored is not None and stored.message.site_id == site_id else None

    async def take_next(
        self, site_id: str, operator_id: str, command_id: uuid.UUID, now: datetime
    ) -> OfflineMessage | None:
        if command_id in self._taken_by:
            raise DuplicateTake(str(command_id))
        waiting = [
            s
            for s in self._stored.values()
            if s.message.site_id == site_id and s.message.status == WAITING
        ]
        if not waiting:
            return None
        oldest = min(waiting, key=lambda s: s.message.queue_position)
        message = taken(oldest.message, operator_id, command_id, now)
        self._stored[message.offline_message_id] = replace(
            oldest, message=message, version=oldest.version + 1
        )
        self._taken_by[command_id] = message.offline_message_id
        return message

    async def taken_by(self, site_id: str, command_id: uuid.UUID) -> OfflineMessage | None:
        message_id = self._taken_by.get(command_id)
        stored = None if message_id is None else await self.get(site_id, message_id)
        return None if stored is None else stored.message

    async def save(self, stored: StoredMessage, message: OfflineMessage, outcome: Outcome) -> None:
        current = self._stored.get(stored.message.offline_message_id)
        if current is None or current.version != stored.version:
            raise StaleMessage(str(stored.message.offline_message_id))
        # Only what a reply or close changes; the rest stays as stored (as in MongoDB).
        self._stored[message.offline_message_id] = StoredMessage(
            replace(
                current.message,
                status=message.status,
                operator_id=message.operator_id,
                reply=message.reply,
            ),
            version=current.version + 1,
            outcomes=(*current.outcomes, outcome)[-OUTCOMES_KEPT:],
        )

    async def messages(
        self, site_id: str, statuses: Sequence[Status], limit: int
    ) -> list[OfflineMessage]:
        found = [
            s.message
            for s in self._stored.values()
            if s.message.site_id == site_id and s.message.status in statuses
        ]
        return sorted(found, key=lambda m: m.queue_position)[:limit]

    async def count_waiting(self, site_id: str | None = None) -> Mapping[str, int]:
        counts: dict[str, int] = {}
        for stored in self._stored.values():
            message = stored.message
            if message.status == WAITING and site_id in (None, message.site_id):
                counts[message.site_id] = counts.get(message.site_id, 0) + 1
        return counts

    async def close(self) -> None:
        return None
