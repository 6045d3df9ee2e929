"""The Communication Summary of a site and of one operator: counts and oldest waiting times.

No seconds here: a queue reports its oldest `waiting_since`, and whoever shows the summary adds
the seconds at read time, so the same state always summarizes the same.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from livechat_shared.contracts import Channel, Presence

from summary_projector.domain.state import PresenceReason


@dataclass(frozen=True, slots=True)
class InProgress:
    active: int = 0
    on_hold: int = 0


@dataclass(frozen=True, slots=True)
class Queue:
    waiting: int = 0
    longest_waiting_since: datetime | None = None


@dataclass(frozen=True, slots=True)
class Queues:
    chats: Queue = Queue()
    calls: Queue = Queue()
    messages: Queue = Queue()


@dataclass(frozen=True, slots=True)
class Operators:
    online: int = 0
    away: int = 0
    with_free_capacity: int = 0
    """Online, and active + held chats + pending chat offers below the operator's maximum."""


@dataclass(frozen=True, slots=True)
class SiteSummary:
    site_id: str
    in_progress: InProgress = InProgress()
    queues: Queues = Queues()
    operators: Operators = Operators()


@dataclass(frozen=True, slots=True)
class PendingOffer:
    """An incoming chat request awaiting the operator's answer: what its console shows."""

    offer_id: uuid.UUID
    visitor_id: str
    channel: Channel
    waiting_since: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class OperatorSummary:
    operator_id: str
    presence: Presence
    max_chats: int | None
    """Its maximum as the queue manager reported it; None: not reported yet."""
    in_progress: InProgress
    pending_offers: int
    pending_invitations: int
    free_chat_slots: int
    has_free_capacity: bool
    presence_reason: PresenceReason = "operator"
    """Why it has that presence (operator, offer_timed_out, disconnected)."""
    offers: tuple[PendingOffer, ...] = ()
    """Its pending offers, soonest to expire first: a console that reconnects shows them."""
