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


def visitor_waiting(decision: Decision, message: VisitorWaiting) -> None:
    if message.visitor_id in decision.site.visitors or message.visitor_id in decision.site.in_chat:
        return  # already waiting, offered or served: asking again changes nothing
    if (invitation_id := decision.site.invited.get(message.visitor_id)) is not None:
        decision.end_invitation(invitation_id, InvitationDeclined)  # it chose the queue instead
    decision.emit(
        VisitorQueued,
        visitor_id=message.visitor_id,
        channel=message.channel,
        waiting_since=message.occurred_at,
        badge=message.badge,
    )
    decision.route(decision.site.visitors[message.visitor_id])


def visitor_left(decision: Decision, message: VisitorLeftQueue) -> None:
    visitor = decision.site.visitors.get(message.visitor_id)
    if visitor is None:
        return
    freed: Operator | None = None
    if visitor.offer_id is not None:
        offer = decision.site.offers[visitor.offer_id]
        freed = decision.site.operators[offer.operator_id]
        decision.emit(
            OfferWithdrawn,
            offer_id=offer.offer_id,
            visitor_id=visitor.visitor_id,
            operator_id=offer.operator_id,
            reason="visitor_left",
        )
    waited = max(0.0, (decision.now - visitor.waiting_since).total_seconds())
    decision.emit(
        VisitorAbandoned,
        visitor_id=visitor.visitor_id,
        channel=visitor.channel,
        waited_seconds=waited,
    )
    if freed is not None:
        decision.fill(freed)


def chat_ended(decision: Decision, message: ChatEnded) -> None:
    chat = decision.site.chats.get(message.session_id)
    if chat is None:
        return  # not a session this queue manager started (or it ended already)
    decision.keep(message)
    operator = decision.site.operators[chat.operator_id]
    if (free := decision.free_slots(operator, chat.channel)) > 0:
        decision.emit(
            OperatorFreed, operator_id=operator.operator_id, channel=chat.channel, free_slots=free
        )
    decision.fill(operator)
