"""What the projection keeps of a site: sessions, waiting visitors, offers, messages, operators.

Only what the Communication Summary needs, keyed by the ids the events carry, so the event that
ends a thing removes exactly that thing (a session by its id, an offline message by its id).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from livechat_shared.contracts import Channel, Presence, VisitorBadge

PresenceReason = Literal["operator", "offer_timed_out", "disconnected"]


@dataclass(frozen=True, slots=True)
class Session:
    """A chat or call in progress; held ones still count against the operator's capacity."""

    operator_id: str
    channel: Channel
    on_hold: bool = False


@dataclass(frozen=True, slots=True)
class Waiting:
    """A visitor in the queue of its channel, not offered to anyone right now."""

    channel: Channel
    since: datetime


@dataclass(frozen=True, slots=True)
class QueuedVisitor:
    """A visitor from the moment it was queued until its chat starts or it leaves."""

    channel: Channel
    since: datetime
    badge: VisitorBadge


@dataclass(frozen=True, slots=True)
class Offer:
    """An incoming chat request, or an invitation, awaiting an answer: either holds a slot."""

    operator_id: str
    visitor_id: str
    channel: Channel
    invitation: bool = False
    waiting_since: datetime | None = None
    """Since when the offered visitor waits (None for an invitation, and in records stored
    before offers kept it)."""
    expires_at: datetime | None = None
    """When the queue manager takes it back unanswered (None in records stored before)."""


@dataclass(frozen=True, slots=True)
class OperatorStatus:
    presence: Presence = Presence.OFFLINE
    max_chats: int | None = None
    """Its maximum number of chats as the queue manager last reported it; None: not yet."""
    free_slots: int = 0
    """Chats it may still be offered, as the queue manager last reported: never recounted here."""
    own_max_chats: int | None = None
    """Its own maximum number of chats, as the queue manager last reported; None: the site's."""
    presence_reason: PresenceReason = "operator"
    """Why it has that presence: set by itself, or away after an offer timed out or its
    console disconnected (a console that reloads shows it again)."""


@dataclass(frozen=True, slots=True)
class SiteMaxChats:
    """The site's maximum number of chats as the queue manager last announced it."""

    max_chats: int
    from_default: bool
    """The site never set its own: the queue manager's default applies."""


@dataclass(slots=True)
class SummaryState:
    """Changed in place by `apply`: an event costs what it changes, not a copy of the site.

    Whoever must keep a state as it was (the store's last saved one, while a batch is applied
    to the next) takes a `copy()` first: one per site per batch, never one per event. The values
    (sessions, offers, operators' statuses) are frozen and replaced, so a shallow copy shares
    nothing that changes.
    """

    site_id: str
    sessions: dict[uuid.UUID, Session] = field(default_factory=dict)
    waiting: dict[str, Waiting] = field(default_factory=dict)
    """Visitor id -> where and since when it waits."""
    offers: dict[uuid.UUID, Offer] = field(default_factory=dict)
    messages: dict[uuid.UUID, datetime] = field(default_factory=dict)
    """Offline message id -> when it was left: waiting until an operator takes it."""
    operators: dict[str, OperatorStatus] = field(default_factory=dict)
    visitors: dict[str, QueuedVisitor] = field(default_factory=dict)
    """Visitor id -> badge and original waiting time, for the Communication Queue overview."""
    max_chats: SiteMaxChats | None = None
    """None until the queue manager announced the site's maximum number of chats."""

    def copy(self) -> SummaryState:
        return SummaryState(
            site_id=self.site_id,
            sessions=dict(self.sessions),
            waiting=dict(self.waiting),
            offers=dict(self.offers),
            messages=dict(self.messages),
            operators=dict(self.operators),
            visitors=dict(self.visitors),
            max_chats=self.max_chats,  # frozen: replaced, never changed
        )
