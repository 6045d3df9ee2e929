"""How events move the Queues: visitors waiting, offers and invitations holding slots, messages."""

from __future__ import annotations

from dataclasses import replace

from livechat_shared.contracts import (
    ChatOffered,
    InvitationDeclined,
    InvitationExpired,
    MessageLeft,
    OfferDeclined,
    OfferPutBack,
    OfferTimedOut,
    OfferWithdrawn,
    OfflineMessageClosed,
    OfflineMessageTaken,
    VisitorAbandoned,
    VisitorInvited,
    VisitorQueued,
    VisitorRequeued,
)

from summary_projector.domain.state import (
    Offer,
    QueuedVisitor,
    SummaryState,
    Waiting,
    drop,
    put,
)


def queued(s: SummaryState, e: VisitorQueued | VisitorRequeued) -> SummaryState:
    if isinstance(e, VisitorQueued) and e.visitor_id not in s.visitors:
        visitor = QueuedVisitor(e.channel, e.waiting_since, e.badge)
        s = replace(s, visitors=put(s.visitors, e.visitor_id, visitor))
    offers = (o for o in s.offers.values() if not o.invitation)
    if isinstance(e, VisitorQueued) and any(o.visitor_id == e.visitor_id for o in offers):
        return s  # overtaken by its own offer (a retried message): reserved, not waiting
    return replace(s, waiting=put(s.waiting, e.visitor_id, Waiting(e.channel, e.waiting_since)))


def abandoned(s: SummaryState, e: VisitorAbandoned) -> SummaryState:
    if e.visitor_id not in s.waiting and e.visitor_id not in s.visitors:
        return s
    return replace(
        s, waiting=drop(s.waiting, e.visitor_id), visitors=drop(s.visitors, e.visitor_id)
    )


def offered(s: SummaryState, e: ChatOffered) -> SummaryState:
    # The offered visitor is reserved: out of the queue until it is requeued or served.
    if e.offer_id in s.sessions:
        return s  # overtaken by its ChatStarted (a retried message): no longer pending
    offer = Offer(e.operator_id, e.visitor_id, e.channel)
    return replace(
        s, waiting=drop(s.waiting, e.visitor_id), offers=put(s.offers, e.offer_id, offer)
    )


def invited(s: SummaryState, e: VisitorInvited) -> SummaryState:
    if e.invitation_id in s.sessions:
        return s  # overtaken by its ChatStarted
    offer = Offer(e.operator_id, e.visitor_id, e.channel, invitation=True)
    return replace(s, offers=put(s.offers, e.invitation_id, offer))


def offer_closed(
    s: SummaryState, e: OfferDeclined | OfferPutBack | OfferTimedOut | OfferWithdrawn
) -> SummaryState:
    return replace(s, offers=drop(s.offers, e.offer_id)) if e.offer_id in s.offers else s


def invitation_closed(s: SummaryState, e: InvitationDeclined | InvitationExpired) -> SummaryState:
    key = e.invitation_id
    return replace(s, offers=drop(s.offers, key)) if key in s.offers else s


def message_left(s: SummaryState, e: MessageLeft) -> SummaryState:
    return replace(s, messages=put(s.messages, e.offline_message_id, e.occurred_at))


def message_gone(s: SummaryState, e: OfflineMessageTaken | OfflineMessageClosed) -> SummaryState:
    # Taken by an operator (a close always comes after a take): it no longer waits.
    key = e.offline_message_id
    return replace(s, messages=drop(s.messages, key)) if key in s.messages else s
