"""summarize(state): count the Communication Summary out of the state.

Capacity (an operator's maximum, its free slots) is shown as the queue manager reported it in
OperatorSlotsChanged: counting it here again would be a second copy of a routing rule.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable
from datetime import datetime

from livechat_shared.contracts import Channel, Presence

from summary_projector.domain.state import Offer, OperatorStatus, Session, SummaryState
from summary_projector.domain.summary import (
    InProgress,
    Operators,
    OperatorSummary,
    PendingOffer,
    Queue,
    Queues,
    SiteSummary,
)


def summarize(state: SummaryState) -> SiteSummary:
    presences = Counter(o.presence for o in state.operators.values())
    free = sum(1 for o in state.operators.values() if _has_free_capacity(o))
    return SiteSummary(
        site_id=state.site_id,
        in_progress=_in_progress(state.sessions.values()),
        queues=Queues(
            chats=_queue(w.since for w in state.waiting.values() if w.channel is Channel.CHAT),
            calls=_queue(w.since for w in state.waiting.values() if w.channel is Channel.CALL),
            messages=_queue(state.messages.values()),
        ),
        operators=Operators(
            online=presences[Presence.ONLINE],
            away=presences[Presence.AWAY],
            with_free_capacity=free,
        ),
    )


def summarize_operator(state: SummaryState, operator_id: str) -> OperatorSummary:
    """An operator never heard of is offline with nothing in progress and no slots reported."""
    status = state.operators.get(operator_id, OperatorStatus())
    pending = [(k, o) for k, o in state.offers.items() if o.operator_id == operator_id]
    return OperatorSummary(
        operator_id=operator_id,
        presence=status.presence,
        max_chats=status.max_chats,
        in_progress=_in_progress(
            s for s in state.sessions.values() if s.operator_id == operator_id
        ),
        pending_offers=sum(1 for _, o in pending if not o.invitation),
        pending_invitations=sum(1 for _, o in pending if o.invitation),
        free_chat_slots=status.free_slots,
        has_free_capacity=_has_free_capacity(status),
        presence_reason=status.presence_reason,
        offers=_pending_offers(pending),
    )


def _pending_offers(pending: Iterable[tuple[uuid.UUID, Offer]]) -> tuple[PendingOffer, ...]:
    """Incoming chat requests (not invitations: the visitor answers those), soonest to expire
    first. One stored before offers kept their times is left out: it expires unshown."""
    shown = [
        PendingOffer(offer_id, o.visitor_id, o.channel, o.waiting_since, o.expires_at)
        for offer_id, o in pending
        if not o.invitation and o.waiting_since is not None and o.expires_at is not None
    ]
    return tuple(sorted(shown, key=lambda p: (p.expires_at, str(p.offer_id))))


def _has_free_capacity(status: OperatorStatus) -> bool:
    return status.presence is Presence.ONLINE and status.free_slots > 0


def _in_progress(sessions: Iterable[Session]) -> InProgress:
    held = Counter(s.on_hold for s in sessions)
    return InProgress(active=held[False], on_hold=held[True])


def _queue(since: Iterable[datetime]) -> Queue:
    moments = list(since)
    return Queue(len(moments), min(moments) if moments else None)
