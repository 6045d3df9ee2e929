"""How an offline message is laid out as a MongoDB document, both ways."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from offline_messages.domain import OfflineMessage
from offline_messages.domain.rules import Claim
from offline_messages.ports import Outcome, StoredMessage


def document(message: OfflineMessage) -> dict[str, Any]:
    # Ids are stored as strings: they sort the same everywhere and need no UUID codec.
    # take_command_id is left out until a take sets it (the unique index ignores its absence).
    return {
        "_id": str(message.offline_message_id),
        "site_id": message.site_id,
        "visitor_id": message.visitor_id,
        "name": message.name,
        "email": message.email,
        "text": message.text,
        "left_at": message.left_at,
        "status": message.status,
        "operator_id": message.operator_id,
        "reply": message.reply,
        "taken_at": message.taken_at,
        "version": 1,
        "outcomes": [],
    }


def claim(claim: Claim) -> dict[str, Any]:
    """The fields Next message sets, as the document names them."""
    return {
        "status": claim.status,
        "operator_id": claim.operator_id,
        "taken_at": claim.taken_at,
        "take_command_id": str(claim.taken_by_command),
    }


def stored(doc: dict[str, Any]) -> StoredMessage:
    return StoredMessage(
        message=message(doc),
        version=doc["version"],
        outcomes=tuple(Outcome(o["command_id"], o["events"]) for o in doc.get("outcomes", [])),
    )


def message(doc: dict[str, Any]) -> OfflineMessage:
    take_command = doc.get("take_command_id")
    return OfflineMessage(
        offline_message_id=uuid.UUID(doc["_id"]),
        site_id=doc["site_id"],
        visitor_id=doc["visitor_id"],
        name=doc["name"],
        email=doc["email"],
        text=doc["text"],
        left_at=_utc(doc["left_at"]),
        status=doc["status"],
        operator_id=doc.get("operator_id"),
        reply=doc.get("reply"),
        taken_at=None if doc.get("taken_at") is None else _utc(doc["taken_at"]),
        taken_by_command=None if take_command is None else uuid.UUID(take_command),
    )


def _utc(value: datetime) -> datetime:
    # BSON dates come back naive unless the client is tz_aware; they are UTC either way.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
