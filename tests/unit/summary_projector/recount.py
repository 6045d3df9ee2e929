"""The expected Communication Summary, counted afresh from the state that owns each fact."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from livechat_shared.contracts import Channel, OperatorPresenceChanged, Presence
from queue_manager.domain import Operator
from summary_projector.domain import (
    InProgress,
    Operators,
    OperatorSummary,
    PendingOffer,
    Queue,
    Queues,
    SiteSummary,
)

from tests.unit.summary_projector.workload import Workload


def _queue(moments: Iterable[datetime]) -> Queue:
    ordered = sorted(moments)
    return Queue(len(ordered), ordered[0] if ordered else None)


def recount(w: Workload) -> SiteSummary:
    site = w.site
    held = sum(1 for session_id in site.chats if session_id in w.held)
    online = [o for o in site.operators.values() if o.presence is Presence.ONLINE]
    return SiteSummary(
        site_id=site.site_id,
        in_progress=InProgress(active=len(site.chats) - held, on_hold=held),
        queues=Queues(
            chats=_queue(v.waiting_since for v in site.waiting(Channel.CHAT)),
            calls=_queue(v.waiting_since for v in site.waiting(Channel.CALL)),
            messages=_queue(w.messages.values()),
        ),
        operators=Operators(
            online=len(online),
            away=sum(1 for o in site.operators.values() if o.presence is Presence.AWAY),
            with_free_capacity=sum(1 for o in online if _free_chat_slots(w, o) > 0),
        ),
    )


def recount_operator(w: Workload, operator_id: str) -> OperatorSummary:
    known = w.site.operators.get(operator_id)
    operator = known or Operator(operator_id)
    chats = [c for c in w.site.chats.values() if c.operator_id == operator_id]
    invitations = [i for i in w.site.invitations.values() if i.operator_id == operator_id]
    held = sum(1 for c in chats if c.session_id in w.held)
    free = 0 if known is None else _free_chat_slots(w, operator)
    return OperatorSummary(
        operator_id=operator_id,
        presence=operator.presence,
        # The queue manager reports the slots of the operators it knows, no one else's.
        max_chats=None
        if known is None
        else w.policy.capacity(Channel.CHAT, operator.max_chats, w.site.max_chats),
        in_progress=InProgress(active=len(chats) - held, on_hold=held),
        pending_offers=sum(1 for o in w.site.offers.values() if o.operator_id == operator_id),
        pending_invitations=len(invitations),
        free_chat_slots=free,
        has_free_capacity=operator.presence is Presence.ONLINE and free > 0,
        presence_reason=next(
            (
                e.reason
                for e in reversed(w.events)
                if isinstance(e, OperatorPresenceChanged) and e.operator_id == operator_id
            ),
            "operator",
        ),
        offers=tuple(
            sorted(
                (
                    PendingOffer(
                        o.offer_id,
                        o.visitor_id,
                        o.channel,
                        w.site.visitors[o.visitor_id].waiting_since,
                        o.expires_at,
                    )
                    for o in w.site.offers.values()
                    if o.operator_id == operator_id
                ),
                key=lambda p: (p.expires_at, str(p.offer_id)),
            )
        ),
    )


def _free_chat_slots(w: Workload, operator: Operator) -> int:
    return max(
        0,
        w.policy.capacity(Channel.CHAT, operator.max_chats, w.site.max_chats)
        - operator.load(Channel.CHAT),
    )
