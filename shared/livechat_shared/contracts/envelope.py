"""The envelope every message carries, and the small vocabularies shared by all contracts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1
"""Bumped only for a breaking change; within a version changes are additive (see docs/events.md)."""


def _must_be_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("timestamps must carry a timezone (UTC)")
    return value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_must_be_utc)]
IDENTIFIER_PATTERN = r"^[A-Za-z0-9_:@-][A-Za-z0-9_.:@-]*$"
SITE_ID_PATTERN = r"^[A-Za-z0-9_-]+$"
Identifier = Annotated[str, Field(min_length=1, max_length=128, pattern=IDENTIFIER_PATTERN)]
"""Ids of visitors, operators and the like: ASCII letters, digits and `_.:@-`, never starting with
a dot (so never `.` or `..`). The one definition every service and the gateway use: safe in
routing keys, logs and URL paths, and what a token's `sub` must be."""
SiteId = Annotated[str, Field(min_length=1, max_length=64, pattern=SITE_ID_PATTERN)]
"""A site id is the last word of every routing key: no dots, so `*` bindings match it."""
ClientMessageId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
"""Chosen by the sender of a chat message; a retry with the same id is stored once."""
MessageText = Annotated[str, Field(min_length=1, max_length=5000)]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Channel(StrEnum):
    CHAT = "chat"
    CALL = "call"


class Presence(StrEnum):
    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"


class Message(BaseModel):
    """Base of every event and command: an immutable, self-describing envelope plus payload.

    Subclasses add `type` (a literal of their class name, the discriminator on the wire) and
    their id field: `event_id` for events, `command_id` for commands.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: ClassVar[str] = "message"

    occurred_at: UtcDatetime = Field(default_factory=utc_now, description="When it happened (UTC).")
    correlation_id: str = Field(
        default_factory=lambda: str(uuid.uuid4()), min_length=1, max_length=128
    )
    schema_version: int = Field(default=SCHEMA_VERSION, ge=1)
    site_id: SiteId

    @property
    def message_id(self) -> uuid.UUID:
        """The id consumers deduplicate on, whatever the subclass calls it."""
        raise NotImplementedError

    @classmethod
    def type_name(cls) -> str:
        return cls.__name__
