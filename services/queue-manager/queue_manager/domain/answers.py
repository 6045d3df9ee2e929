"""Offers answered (accept, decline, put back), timed out; Next; manual pick."""

from __future__ import annotations

from livechat_shared.contracts import (
    AcceptOffer,
    ChatStarted,
    DeclineOffer,
    ExpireOffer,
    NextChatRequested,
    OfferDeclined,
    OfferPutBack,
    OfferTimedOut,
    OperatorPresenceChanged,
    PickVisitor,
    Presence,
    PutBackInQueue,
    RequestNextChat,
)

from queue_manager.domain.decision import Decision


def accept(decision: Decision, message: AcceptOffer) -> None:
    offer = decision.pending_offer(message)
    if offer is None:
        return
    visitor = decision.site.visitors[offer.visitor_id]
    decision.emit(
        ChatStarted,
        session_id=offer.offer_id,
        visitor_id=offer.visitor_id,
        operator_id=offer.operator_id,
        channel=offer.channel,
        waited_seconds=max(0.0, (decision.now - visitor.waiting_since).total_seconds()),
    )


def decline(decision: Decision, message: DeclineOffer) -> None:
    offer = decision.pending_offer(message)
    if offer is None:
        return
    ids = {"offer_id": offer.offer_id, "visitor_id": offer.visitor_id}
    decision.emit(OfferDeclined, operator_id=offer.operator_id, **ids)
    visitor = decision.requeue(offer, "declined")
    decision.fill(decision.site.operators[offer.operator_id])
    if visitor.offer_id is None:
        decision.route(visitor)


def put_back(decision: Decision, message: PutBackInQueue) -> None:
    offer = decision.pending_offer(message)
    if offer is None:
        return
    ids = {"offer_id": offer.offer_id, "visitor_id": offer.visitor_id}
    decision.emit(OfferPutBack, operator_id=offer.operator_id, **ids)
    decision.route(decision.requeue(offer, "put_back"))


def expire(decision: Decision, message: ExpireOffer) -> None:
    offer = decision.site.offers.get(message.offer_id)
    if offer is None:
        return  # answered (or withdrawn) in time
    operator = decision.site.operators[offer.operator_id]
    ids = {"offer_id": offer.offer_id, "visitor_id": offer.visitor_id}
    decision.emit(OfferTimedOut, operator_id=offer.operator_id, **ids)
    visitor = decision.requeue(offer, "timed_out")
    if operator.presence is Presence.ONLINE:
        decision.emit(
            OperatorPresenceChanged,
            operator_id=operator.operator_id,
            presence=Presence.AWAY,
            reason="offer_timed_out",
        )
    decision.route(visitor)


def next_visitor(decision: Decision, message: RequestNextChat) -> None:
    operator = decision.site.operators.get(message.operator_id)
    if operator is None or operator.presence is not Presence.ONLINE:
        decision.reject("the operator is not online", message.operator_id)
        return
    if decision.free_slots(operator, message.channel) <= 0:
        decision.reject(
            f"the operator has no free {message.channel.value} capacity", message.operator_id
        )
        return
    decision.emit(NextChatRequested, operator_id=message.operator_id, channel=message.channel)
    visitor = decision.longest_waiting_for(operator, message.channel)
    if visitor is None:
        decision.reject(
            f"nobody is waiting in the {message.channel.value} queue", message.operator_id
        )
    else:
        decision.offer(visitor, operator)
    decision.fill(operator)


def pick(decision: Decision, message: PickVisitor) -> None:
    operator = decision.site.operators.get(message.operator_id)
    if operator is None or operator.presence is Presence.OFFLINE:
        decision.reject("the operator is offline", message.operator_id)
        return
    visitor = decision.site.visitors.get(message.visitor_id)
    if visitor is None:
        decision.reject("the visitor is not waiting", message.operator_id)
        return
    if visitor.offer_id is not None:
        decision.reject("the visitor is being offered to an operator", message.operator_id)
        return
    channel = message.channel or visitor.channel
    if decision.free_slots(operator, channel) <= 0:
        decision.reject(f"the operator has no free {channel.value} capacity", message.operator_id)
        return
    decision.emit(
        ChatStarted,
        session_id=decision.new_id(),
        visitor_id=visitor.visitor_id,
        operator_id=operator.operator_id,
        channel=channel,
        waited_seconds=max(0.0, (decision.now - visitor.waiting_since).total_seconds()),
        origin="pick",
    )
