"""How sessions and transcript messages look as MongoDB documents, both ways.

Ids are strings (BSON has no portable UUID representation by default); dates are BSON dates,
which keep milliseconds (the domain records instants at that precision).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from livechat_shared.contracts import Channel, ChatMessagePosted

from session_service.domain import Session
from session_service.ports import Outcome, StoredSession


def session_doc(session: Session) -> dict[str, Any]:
    return {
        "_id": str(session.session_id),
        "site_id": session.site_id,
        "visitor_id": session.visitor_id,
        "operator_id": session.operator_id,
        "channel": session.channel.value,
        "status": session.status,
        "started_at": session.started_at,
        "last_seq": session.last_seq,
        "ended_at": session.ended_at,
        "ended_by": session.ended_by,
        "visitor_gone_since": session.visitor_gone_since,
    }


def stored(doc: dict[str, Any]) -> StoredSession:
    session = Session(
        session_id=uuid.UUID(doc["_id"]),
        site_id=doc["site_id"],
        visitor_id=doc["visitor_id"],
        operator_id=doc["operator_id"],
        channel=Channel(doc["channel"]),
        started_at=_utc(doc["started_at"]),
        status=doc["status"],
        last_seq=int(doc["last_seq"]),
        ended_at=_utc_or_none(doc.get("ended_at")),
        ended_by=doc.get("ended_by"),
        visitor_gone_since=_utc_or_none(doc.get("visitor_gone_since")),
    )
    outcomes = tuple(Outcome(o["message_id"], list(o["events"])) for o in doc.get("outcomes", []))
    return StoredSession(session, version=int(doc["version"]), outcomes=outcomes)


def message_doc(message: ChatMessagePosted) -> dict[str, Any]:
    return {
        "_id": str(message.event_id),
        "site_id": message.site_id,
        "session_id": str(message.session_id),
        "seq": message.seq,
        "author": message.author,
        "client_message_id": message.client_message_id,
        "text": message.text,
        "visitor_id": message.visitor_id,
        "operator_id": message.operator_id,
        "posted_at": message.occurred_at,
        "correlation_id": message.correlation_id,
        "schema_version": message.schema_version,
    }


def message(doc: dict[str, Any]) -> ChatMessagePosted:
    return ChatMessagePosted(
        event_id=uuid.UUID(doc["_id"]),
        occurred_at=_utc(doc["posted_at"]),
        correlation_id=doc["correlation_id"],
        schema_version=doc["schema_version"],
        site_id=doc["site_id"],
        session_id=uuid.UUID(doc["session_id"]),
        seq=doc["seq"],
        author=doc["author"],
        client_message_id=doc["client_message_id"],
        text=doc["text"],
        visitor_id=doc["visitor_id"],
        operator_id=doc["operator_id"],
    )


def _utc(value: datetime) -> datetime:
    # BSON dates come back naive unless the client is tz_aware; either way they are UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _utc_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else _utc(value)
