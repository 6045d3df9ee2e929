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


def queued(state: SummaryState, event: VisitorQueued | VisitorRequeued) -> SummaryState:
    if isinstance(event, VisitorQueued) and event.visitor_id not in state.visitors:
        visitor = QueuedVisitor(event.channel, event.waiting_since, event.badge)
        state = replace(state, visitors=put(state.visitors, event.visitor_id, visitor))
    offers = (o for o in state.offers.values() if not o.invitation)
    if isinstance(event, VisitorQueued) and any(o.visitor_id == event.visitor_id for o in offers):
        return state  # overtaken by its own offer (a retried message): reserved, not waiting
    return replace(
        state,
        waiting=put(state.waiting, event.visitor_id, Waiting(event.channel, event.waiting_since)),
    )


def abandoned(state: SummaryState, event: VisitorAbandoned) -> SummaryState:
    if event.visitor_id not in state.waiting and event.visitor_id not in state.visitors:
        return state
    return replace(
        state,
        waiting=drop(state.waiting, event.visitor_id),
        visitors=drop(state.visitors, event.visitor_id),
    )


def offered(state: SummaryState, event: ChatOffered) -> SummaryState:
    # The offered visitor is reserved: out of the queue until it is requeued or served.
    if event.offer_id in state.sessions:
        return state  # overtaken by its ChatStarted (a retried message): no longer pending
    offer = Offer(event.operator_id, event.visitor_id, event.channel)
    return replace(
        state,
        waiting=drop(state.waiting, event.visitor_id),
        offers=put(state.offers, event.offer_id, offer),
    )


def invited(state: SummaryState, event: VisitorInvited) -> SummaryState:
    if event.invitation_id in state.sessions:
        return state  # overtaken by its ChatStarted
    offer = Offer(event.operator_id, event.visitor_id, event.channel, invitation=True)
    return replace(state, offers=put(state.offers, event.invitation_id, offer))


def offer_closed(
    state: SummaryState, event: OfferDeclined | OfferPutBack | OfferTimedOut | OfferWithdrawn
) -> SummaryState:
    return (
        replace(state, offers=drop(state.offers, event.offer_id))
        if event.offer_id in state.offers
        else state
    )


def invitation_closed(
    state: SummaryState, event: InvitationDeclined | InvitationExpired
) -> SummaryState:
    key = event.invitation_id
    return replace(state, offers=drop(state.offers, key)) if key in state.offers else state


def message_left(state: SummaryState, event: MessageLeft) -> SummaryState:
    return replace(state, messages=put(state.messages, event.offline_message_id, event.occurred_at))


def message_gone(
    state: SummaryState, event: OfflineMessageTaken | OfflineMessageClosed
) -> SummaryState:
    # Taken by an operator (a close always comes after a take): it no longer waits.
    key = event.offline_message_id
    return replace(state, messages=drop(state.messages, key)) if key in state.messages else state
