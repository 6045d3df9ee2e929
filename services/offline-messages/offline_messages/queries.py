"""Read side of the Message Queue: stored messages turned into the views the HTTP API serves."""

from __future__ import annotations

import uuid
from typing import Literal

from livechat_shared.contracts.views import MessageQueue, OfflineMessageView

from offline_messages.domain import STATUSES, OfflineMessage, Status
from offline_messages.ports import OfflineMessageStore

StatusFilter = Literal["waiting", "taken", "replied", "closed", "all"]


class MessageQueueQueries:
    def __init__(self, store: OfflineMessageStore) -> None:
        self.store = store

    async def queue(self, site_id: str, status: StatusFilter, limit: int) -> MessageQueue:
        statuses: tuple[Status, ...] = STATUSES if status == "all" else (status,)
        found = await self.store.messages(site_id, statuses, limit)
        return MessageQueue(messages=[view(m) for m in found])

    async def message(
        self, site_id: str, offline_message_id: uuid.UUID
    ) -> OfflineMessageView | None:
        stored = await self.store.get(site_id, offline_message_id)
        return None if stored is None else view(stored.message)


def view(message: OfflineMessage) -> OfflineMessageView:
    return OfflineMessageView(
        offline_message_id=message.offline_message_id,
        site_id=message.site_id,
        visitor_id=message.visitor_id,
        name=message.name,
        email=message.email,
        text=message.text,
        left_at=message.left_at,
        status=message.status,
        operator_id=message.operator_id,
        reply=message.reply,
    )
