"""An offline message as the Message Queue holds it: what the visitor left, and where it stands."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Status = Literal["waiting", "taken", "replied", "closed"]
STATUSES: tuple[Status, ...] = ("waiting", "taken", "replied", "closed")
WAITING: Status = "waiting"


@dataclass(frozen=True)
class OfflineMessage:
    offline_message_id: uuid.UUID
    site_id: str
    visitor_id: str
    name: str
    email: str
    text: str
    left_at: datetime
    status: Status = WAITING
    operator_id: str | None = None
    """The operator who took it; only that operator may reply to it or close it."""
    reply: str | None = None
    """The latest reply (an operator may reply more than once)."""
    taken_at: datetime | None = None
    taken_by_command: uuid.UUID | None = None
    """The TakeNextMessage that took it: a redelivered command finds its message by this."""

    @property
    def queue_position(self) -> tuple[datetime, str]:
        """Oldest first; messages left in the same instant go by id, so every store agrees."""
        return (self.left_at, str(self.offline_message_id))
