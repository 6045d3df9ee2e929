"""Short ways to write the events a test feeds the projection, at hand-set times."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from livechat_shared.contracts import (
    Channel,
    ChatEnded,
    ChatHeld,
    ChatOffered,
    ChatResumed,
    ChatStarted,
    Event,
    MessageLeft,
    OperatorPresenceChanged,
    OperatorSlotsChanged,
    Presence,
    VisitorQueued,
)
from summary_projector.domain import SummaryState, apply

SITE = "acme"
T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def ids(*names: str) -> dict[str, uuid.UUID]:
    return {name: uuid.uuid5(uuid.NAMESPACE_URL, name) for name in names}


def fold(*events: Event, state: SummaryState | None = None) -> SummaryState:
    """The state after the events; `state`, if given, is changed in place."""
    state = state or SummaryState(SITE)
    for event in events:
        apply(state, event)
    return state


def queued(visitor: str, seconds: float, channel: Channel = Channel.CHAT) -> VisitorQueued:
    return VisitorQueued(
        site_id=SITE,
        visitor_id=visitor,
        channel=channel,
        waiting_since=at(seconds),
        occurred_at=at(seconds),
    )


def online(operator: str, presence: Presence = Presence.ONLINE) -> OperatorPresenceChanged:
    return OperatorPresenceChanged(site_id=SITE, operator_id=operator, presence=presence)


def slots(
    operator: str, free: int, maximum: int = 3, channel: Channel = Channel.CHAT
) -> OperatorSlotsChanged:
    """What the queue manager reports of an operator's slots in one channel."""
    return OperatorSlotsChanged(
        site_id=SITE,
        operator_id=operator,
        channel=channel,
        max_slots=maximum,
        used_slots=maximum - free,
        free_slots=free,
    )


def offered(
    offer_id: uuid.UUID, visitor: str, operator: str, channel: Channel = Channel.CHAT
) -> ChatOffered:
    return ChatOffered(
        site_id=SITE,
        offer_id=offer_id,
        visitor_id=visitor,
        operator_id=operator,
        channel=channel,
        waiting_since=T0,
        expires_at=at(30),
    )


def started(
    session_id: uuid.UUID, visitor: str, operator: str, channel: Channel = Channel.CHAT
) -> ChatStarted:
    return ChatStarted(
        site_id=SITE,
        session_id=session_id,
        visitor_id=visitor,
        operator_id=operator,
        channel=channel,
        waited_seconds=1.0,
    )


def session_event(kind: type[ChatHeld | ChatResumed], chat: ChatStarted) -> Event:
    return kind(
        site_id=SITE,
        session_id=chat.session_id,
        visitor_id=chat.visitor_id,
        operator_id=chat.operator_id,
    )


def ended(chat: ChatStarted) -> ChatEnded:
    return ChatEnded(
        site_id=SITE,
        session_id=chat.session_id,
        visitor_id=chat.visitor_id,
        operator_id=chat.operator_id,
        channel=chat.channel,
        ended_by="operator",
    )


def message_left(message_id: uuid.UUID, seconds: float, **fields: Any) -> MessageLeft:
    return MessageLeft(
        site_id=SITE,
        offline_message_id=message_id,
        visitor_id=fields.get("visitor_id", "v9"),
        name="Ada",
        email="ada@example.com",
        text="Call me back, please.",
        occurred_at=at(seconds),
    )
