"""The queue manager's state for one site: waiting visitors, operators, offers and chats."""

from __future__ import annotations

import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

from livechat_shared.contracts import Channel, Presence
from sortedcontainers import SortedList

EXITS_REMEMBERED = 20
POSITIONS_PUBLISHED = 100

QueueKey = tuple[datetime, int, str]
"""Order in a queue: waiting since, then arrival order, then visitor id."""


@dataclass(slots=True)
class Visitor:
    """A visitor waiting or offered, kept small: a site may hold 100,000 of them.

    Its place in the queue is the one tuple the queue holds as well, and its id and waiting
    time are read from it. It keeps no badge: no routing rule reads one, and the journal's
    VisitorQueued holds it for whoever shows it (the summary) — a badge per visitor was two
    thirds of the memory of a long queue.
    """

    queue_key: QueueKey
    channel: Channel
    declined_by: frozenset[str] = frozenset()
    """Operators who declined or put back this visitor (the shared empty set until the first
    one: most visitors never have any)."""
    offer_id: uuid.UUID | None = None

    @property
    def visitor_id(self) -> str:
        return self.queue_key[2]

    @property
    def waiting_since(self) -> datetime:
        return self.queue_key[0]


@dataclass(slots=True)
class Offer:
    offer_id: uuid.UUID
    visitor_id: str
    operator_id: str
    channel: Channel
    expires_at: datetime


@dataclass(slots=True)
class Invitation:
    """An operator's invitation to a browsing visitor: holds a slot like an offer does."""

    invitation_id: uuid.UUID
    visitor_id: str
    operator_id: str
    channel: Channel
    expires_at: datetime


@dataclass(slots=True)
class Chat:
    session_id: uuid.UUID
    visitor_id: str
    operator_id: str
    channel: Channel


@dataclass(slots=True)
class Operator:
    operator_id: str
    presence: Presence = Presence.OFFLINE
    max_chats: int | None = None
    auto_offers: bool = True
    """False after the operator put a visitor back, until it asks for the next one."""
    idle_since: datetime | None = None
    """When it last got an offer, or came online: ties between equally loaded operators go to
    the one idle longest."""
    consoles: dict[str, datetime] = field(default_factory=dict)
    """Gateway replica id -> when it last said a console socket of this operator is open there."""
    console_gone_at: datetime | None = None
    """When a replica last said its console sockets closed (None after one opens)."""
    chats: dict[Channel, set[uuid.UUID]] = field(
        default_factory=lambda: {channel: set() for channel in Channel}
    )
    offers: dict[Channel, set[uuid.UUID]] = field(
        default_factory=lambda: {channel: set() for channel in Channel}
    )
    """Pending offers and invitations: each holds a slot until answered."""

    def load(self, channel: Channel) -> int:
        """Chats (held ones too: the queue manager never frees capacity on hold) plus offers
        and invitations."""
        return len(self.chats[channel]) + len(self.offers[channel])


@dataclass
class Site:
    site_id: str
    operators: dict[str, Operator] = field(default_factory=dict)
    visitors: dict[str, Visitor] = field(default_factory=dict)
    """Visitors waiting or offered; a visitor leaves this map when its chat starts or it leaves."""
    queues: dict[Channel, SortedList] = field(
        default_factory=lambda: {channel: SortedList() for channel in Channel}
    )
    offers: dict[uuid.UUID, Offer] = field(default_factory=dict)
    chats: dict[uuid.UUID, Chat] = field(default_factory=dict)
    invitations: dict[uuid.UUID, Invitation] = field(default_factory=dict)
    invited: dict[str, uuid.UUID] = field(default_factory=dict)
    """Visitor id -> its pending invitation."""
    in_chat: dict[str, uuid.UUID] = field(default_factory=dict)
    """Visitor id -> its session: a visitor leads at most one chat or call at a time."""
    recent_exits: dict[Channel, deque[datetime]] = field(
        default_factory=lambda: {channel: deque(maxlen=EXITS_REMEMBERED) for channel in Channel}
    )
    """When the last visitors left each queue for an operator: the pace of the queue."""
    max_chats: int | None = None
    """The site's own maximum number of chats per operator (None: the policy's default)."""
    arrivals: int = 0
    journal_seq: int = 0
    """The last journal entry applied; the next decision is stored under journal_seq + 1."""

    def operator(self, operator_id: str) -> Operator:
        found = self.operators.get(operator_id)
        if found is None:
            found = self.operators[operator_id] = Operator(operator_id)
        return found

    def waiting(self, channel: Channel) -> list[Visitor]:
        return [self.visitors[key[2]] for key in self.queues[channel]]

    def head(self, channel: Channel) -> list[str]:
        """The ids of the first POSITIONS_PUBLISHED waiting visitors, in order."""
        return [key[2] for key in self.queues[channel].islice(0, POSITIONS_PUBLISHED)]

    def seconds_per_position(self, channel: Channel) -> float | None:
        exits = self.recent_exits[channel]
        if len(exits) < 2:
            return None
        return max(0.0, (exits[-1] - exits[0]).total_seconds() / (len(exits) - 1))
