"""The offline-messages ports: the message store (the Message Queue) and the outbound bus."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from livechat_shared.contracts import Message

from offline_messages.domain import OfflineMessage, Status

OUTCOMES_KEPT = 20
"""Outcomes remembered per message: a handful of replies and a close, with room to spare."""


@dataclass(frozen=True)
class Outcome:
    """The events one reply or close produced, as JSON, stored in the same write as the change,
    so a redelivered command is answered with the very same events instead of acting twice."""

    command_id: str
    events: list[dict[str, Any]]


@dataclass(frozen=True)
class StoredMessage:
    message: OfflineMessage
    version: int
    """Bumped by every write: a save based on an older read is refused (StaleMessage)."""
    outcomes: tuple[Outcome, ...] = field(default=())

    def outcome_of(self, command_id: uuid.UUID) -> Outcome | None:
        return next((o for o in self.outcomes if o.command_id == str(command_id)), None)


class StaleMessage(Exception):
    """The message changed since it was read: read it again and decide again."""


class DuplicateTake(Exception):
    """This TakeNextMessage took a message already (a redelivered copy got there first)."""


class OfflineMessageStore(Protocol):
    async def add(self, message: OfflineMessage) -> bool:
        """Store a new waiting message; False, changing nothing, if its id is stored already."""

    async def get(self, site_id: str, offline_message_id: uuid.UUID) -> StoredMessage | None: ...

    async def take_next(
        self, site_id: str, operator_id: str, command_id: uuid.UUID, now: datetime
    ) -> OfflineMessage | None:
        """Atomically hand the site's oldest waiting message to the operator (domain `taken`).

        Never the same message to two callers, even from two processes. None: nothing waits.
        Raise DuplicateTake if a message was taken by this command id already.
        """

    async def taken_by(self, site_id: str, command_id: uuid.UUID) -> OfflineMessage | None:
        """The message a TakeNextMessage took, if it took one."""

    async def save(self, stored: StoredMessage, message: OfflineMessage, outcome: Outcome) -> None:
        """Write status, operator and reply, and remember the outcome (the last OUTCOMES_KEPT).

        Raise StaleMessage if the message was written since `stored` was read.
        """

    async def messages(
        self, site_id: str, statuses: Sequence[Status], limit: int
    ) -> list[OfflineMessage]:
        """Up to `limit` of the site's messages in these statuses, oldest first."""

    async def count_waiting(self, site_id: str | None = None) -> Mapping[str, int]:
        """Waiting messages by site; of one site, or of every site with any waiting."""

    async def close(self) -> None: ...


class Publisher(Protocol):
    async def publish(self, message: Message) -> None: ...
