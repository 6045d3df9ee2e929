"""The summary state as a MongoDB document: lists of records, ids and instants as strings.

Lists rather than maps because operator ids may contain dots, which MongoDB field names should
not; instants as ISO strings because BSON dates keep only milliseconds, and a state must come
back exactly as it was saved.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from livechat_shared.contracts import Channel, Presence, VisitorBadge

from summary_projector.domain import (
    Offer,
    OperatorStatus,
    QueuedVisitor,
    Session,
    SiteMaxChats,
    SummaryState,
    Waiting,
)


def encode_state(state: SummaryState) -> dict[str, Any]:
    return {
        "sessions": [
            {
                "id": str(k),
                "operator_id": s.operator_id,
                "channel": s.channel.value,
                "on_hold": s.on_hold,
            }
            for k, s in state.sessions.items()
        ],
        "waiting": [
            {"id": k, "channel": w.channel.value, "since": w.since.isoformat()}
            for k, w in state.waiting.items()
        ],
        "offers": [
            {
                "id": str(k),
                "operator_id": o.operator_id,
                "visitor_id": o.visitor_id,
                "channel": o.channel.value,
                "invitation": o.invitation,
                "waiting_since": _instant(o.waiting_since),
                "expires_at": _instant(o.expires_at),
            }
            for k, o in state.offers.items()
        ],
        "messages": [{"id": str(k), "left_at": t.isoformat()} for k, t in state.messages.items()],
        "operators": [
            {
                "id": k,
                "presence": o.presence.value,
                "max_chats": o.max_chats,
                "free_slots": o.free_slots,
                "own_max_chats": o.own_max_chats,
                "presence_reason": o.presence_reason,
            }
            for k, o in state.operators.items()
        ],
        "visitors": [
            {
                "id": k,
                "channel": v.channel.value,
                "since": v.since.isoformat(),
                "badge": v.badge.model_dump(mode="json"),
            }
            for k, v in state.visitors.items()
        ],
        "max_chats": None
        if state.max_chats is None
        else {"max_chats": state.max_chats.max_chats, "from_default": state.max_chats.from_default},
    }


def decode_state(site_id: str, doc: dict[str, Any]) -> SummaryState:
    return SummaryState(
        site_id=site_id,
        sessions={
            uuid.UUID(s["id"]): Session(s["operator_id"], Channel(s["channel"]), s["on_hold"])
            for s in doc["sessions"]
        },
        waiting={
            w["id"]: Waiting(Channel(w["channel"]), datetime.fromisoformat(w["since"]))
            for w in doc["waiting"]
        },
        offers={
            uuid.UUID(o["id"]): Offer(
                o["operator_id"],
                o["visitor_id"],
                Channel(o["channel"]),
                o["invitation"],
                # documents written before offers kept their times: none known
                _moment(o.get("waiting_since")),
                _moment(o.get("expires_at")),
            )
            for o in doc["offers"]
        },
        messages={
            uuid.UUID(m["id"]): datetime.fromisoformat(m["left_at"]) for m in doc["messages"]
        },
        operators={
            # Documents written before OperatorSlotsChanged have no free_slots: none reported.
            o["id"]: OperatorStatus(
                Presence(o["presence"]),
                o["max_chats"],
                o.get("free_slots", 0),
                o.get("own_max_chats"),  # documents written before the settings page: none known
                o.get("presence_reason", "operator"),
            )
            for o in doc["operators"]
        },
        visitors={
            v["id"]: QueuedVisitor(
                Channel(v["channel"]),
                datetime.fromisoformat(v["since"]),
                VisitorBadge.model_validate(v["badge"]),
            )
            for v in doc.get("visitors", [])  # documents written before the overview existed
        },
        max_chats=_site_max_chats(doc.get("max_chats")),
    )


def _site_max_chats(found: dict[str, Any] | None) -> SiteMaxChats | None:
    """None in documents written before the site's maximum was announced (or existed)."""
    return None if found is None else SiteMaxChats(found["max_chats"], found["from_default"])


def _instant(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _moment(found: str | None) -> datetime | None:
    return None if found is None else datetime.fromisoformat(found)
