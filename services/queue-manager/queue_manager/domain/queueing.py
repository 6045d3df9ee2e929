"""Visitors joining and leaving the queue, and chats ending: who is offered next."""

from __future__ import annotations

from livechat_shared.contracts import (
    ChatEnded,
    InvitationDeclined,
    OfferWithdrawn,
    OperatorFreed,
    VisitorAbandoned,
    VisitorLeftQueue,
    VisitorQueued,
    VisitorWaiting,
)

from queue_manager.domain.decision import Decision
from queue_manager.domain.model import Operator


def visitor_waiting(d: Decision, m: VisitorWaiting) -> None:
    if m.visitor_id in d.site.visitors or m.visitor_id in d.site.in_chat:
        return  # already waiting, offered or served: asking again changes nothing
    if (invitation_id := d.site.invited.get(m.visitor_id)) is not None:
        d.end_invitation(invitation_id, InvitationDeclined)  # it chose the queue instead
    d.emit(
        VisitorQueued,
        visitor_id=m.visitor_id,
        channel=m.channel,
        waiting_since=m.occurred_at,
        badge=m.badge,
    )
    d.route(d.site.visitors[m.visitor_id])


def visitor_left(d: Decision, m: VisitorLeftQueue) -> None:
    visitor = d.site.visitors.get(m.visitor_id)
    if visitor is None:
        return
    freed: Operator | None = None
    if visitor.offer_id is not None:
        offer = d.site.offers[visitor.offer_id]
        freed = d.site.operators[offer.operator_id]
        d.emit(
            OfferWithdrawn,
            offer_id=offer.offer_id,
            visitor_id=visitor.visitor_id,
            operator_id=offer.operator_id,
            reason="visitor_left",
        )
    waited = max(0.0, (d.now - visitor.waiting_since).total_seconds())
    d.emit(
        VisitorAbandoned,
        visitor_id=visitor.visitor_id,
        channel=visitor.channel,
        waited_seconds=waited,
    )
    if freed is not None:
        d.fill(freed)


def chat_ended(d: Decision, m: ChatEnded) -> None:
    chat = d.site.chats.get(m.session_id)
    if chat is None:
        return  # not a session this queue manager started (or it ended already)
    d.keep(m)
    operator = d.site.operators[chat.operator_id]
    if (free := d.free_slots(operator, chat.channel)) > 0:
        d.emit(
            OperatorFreed, operator_id=operator.operator_id, channel=chat.channel, free_slots=free
        )
    d.fill(operator)
