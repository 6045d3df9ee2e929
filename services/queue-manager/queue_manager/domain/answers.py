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


def accept(d: Decision, m: AcceptOffer) -> None:
    offer = d.pending_offer(m)
    if offer is None:
        return
    visitor = d.site.visitors[offer.visitor_id]
    d.emit(
        ChatStarted,
        session_id=offer.offer_id,
        visitor_id=offer.visitor_id,
        operator_id=offer.operator_id,
        channel=offer.channel,
        waited_seconds=max(0.0, (d.now - visitor.waiting_since).total_seconds()),
    )


def decline(d: Decision, m: DeclineOffer) -> None:
    offer = d.pending_offer(m)
    if offer is None:
        return
    ids = {"offer_id": offer.offer_id, "visitor_id": offer.visitor_id}
    d.emit(OfferDeclined, operator_id=offer.operator_id, **ids)
    visitor = d.requeue(offer, "declined")
    d.fill(d.site.operators[offer.operator_id])
    if visitor.offer_id is None:
        d.route(visitor)


def put_back(d: Decision, m: PutBackInQueue) -> None:
    offer = d.pending_offer(m)
    if offer is None:
        return
    ids = {"offer_id": offer.offer_id, "visitor_id": offer.visitor_id}
    d.emit(OfferPutBack, operator_id=offer.operator_id, **ids)
    d.route(d.requeue(offer, "put_back"))


def expire(d: Decision, m: ExpireOffer) -> None:
    offer = d.site.offers.get(m.offer_id)
    if offer is None:
        return  # answered (or withdrawn) in time
    operator = d.site.operators[offer.operator_id]
    ids = {"offer_id": offer.offer_id, "visitor_id": offer.visitor_id}
    d.emit(OfferTimedOut, operator_id=offer.operator_id, **ids)
    visitor = d.requeue(offer, "timed_out")
    if operator.presence is Presence.ONLINE:
        d.emit(
            OperatorPresenceChanged,
            operator_id=operator.operator_id,
            presence=Presence.AWAY,
            reason="offer_timed_out",
        )
    d.route(visitor)


def next_visitor(d: Decision, m: RequestNextChat) -> None:
    operator = d.site.operators.get(m.operator_id)
    if operator is None or operator.presence is not Presence.ONLINE:
        d.reject("the operator is not online", m.operator_id)
        return
    if d.free_slots(operator, m.channel) <= 0:
        d.reject(f"the operator has no free {m.channel.value} capacity", m.operator_id)
        return
    d.emit(NextChatRequested, operator_id=m.operator_id, channel=m.channel)
    visitor = d.longest_waiting_for(operator, m.channel)
    if visitor is None:
        d.reject(f"nobody is waiting in the {m.channel.value} queue", m.operator_id)
    else:
        d.offer(visitor, operator)
    d.fill(operator)


def pick(d: Decision, m: PickVisitor) -> None:
    operator = d.site.operators.get(m.operator_id)
    if operator is None or operator.presence is Presence.OFFLINE:
        d.reject("the operator is offline", m.operator_id)
        return
    visitor = d.site.visitors.get(m.visitor_id)
    if visitor is None:
        d.reject("the visitor is not waiting", m.operator_id)
        return
    if visitor.offer_id is not None:
        d.reject("the visitor is being offered to an operator", m.operator_id)
        return
    channel = m.channel or visitor.channel
    if d.free_slots(operator, channel) <= 0:
        d.reject(f"the operator has no free {channel.value} capacity", m.operator_id)
        return
    d.emit(
        ChatStarted,
        session_id=d.new_id(),
        visitor_id=visitor.visitor_id,
        operator_id=operator.operator_id,
        channel=channel,
        waited_seconds=max(0.0, (d.now - visitor.waiting_since).total_seconds()),
        origin="pick",
    )
