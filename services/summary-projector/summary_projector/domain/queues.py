"""How events move the Queues: visitors waiting, offers and invitations holding slots, messages.

Each rule changes the state in place and says whether it changed anything.
"""

from __future__ import annotations

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

from summary_projector.domain.state import Offer, QueuedVisitor, SummaryState, Waiting


def queued(state: SummaryState, event: VisitorQueued | VisitorRequeued) -> bool:
    changed = False
    if isinstance(event, VisitorQueued):
        if event.visitor_id not in state.visitors:
            state.visitors[event.visitor_id] = QueuedVisitor(
                event.channel, event.waiting_since, event.badge
            )
            changed = True
        offers = (o for o in state.offers.values() if not o.invitation)
        if any(o.visitor_id == event.visitor_id for o in offers):
            return changed  # overtaken by its own offer (a retried message): reserved, not waiting
    waiting = Waiting(event.channel, event.waiting_since)
    if state.waiting.get(event.visitor_id) == waiting:
        return changed
    state.waiting[event.visitor_id] = waiting
    return True


def abandoned(state: SummaryState, event: VisitorAbandoned) -> bool:
    gone_waiting = state.waiting.pop(event.visitor_id, None) is not None
    gone_visitor = state.visitors.pop(event.visitor_id, None) is not None
    return gone_waiting or gone_visitor


def offered(state: SummaryState, event: ChatOffered) -> bool:
    # The offered visitor is reserved: out of the queue until it is requeued or served.
    if event.offer_id in state.sessions:
        return False  # overtaken by its ChatStarted (a retried message): no longer pending
    offer = Offer(
        event.operator_id,
        event.visitor_id,
        event.channel,
        waiting_since=event.waiting_since,
        expires_at=event.expires_at,
    )
    was_waiting = state.waiting.pop(event.visitor_id, None) is not None
    if not was_waiting and state.offers.get(event.offer_id) == offer:
        return False
    state.offers[event.offer_id] = offer
    return True


def invited(state: SummaryState, event: VisitorInvited) -> bool:
    if event.invitation_id in state.sessions:
        return False  # overtaken by its ChatStarted
    offer = Offer(
        event.operator_id,
        event.visitor_id,
        event.channel,
        invitation=True,
        expires_at=event.expires_at,
    )
    if state.offers.get(event.invitation_id) == offer:
        return False
    state.offers[event.invitation_id] = offer
    return True


def offer_closed(
    state: SummaryState, event: OfferDeclined | OfferPutBack | OfferTimedOut | OfferWithdrawn
) -> bool:
    return state.offers.pop(event.offer_id, None) is not None


def invitation_closed(state: SummaryState, event: InvitationDeclined | InvitationExpired) -> bool:
    return state.offers.pop(event.invitation_id, None) is not None


def message_left(state: SummaryState, event: MessageLeft) -> bool:
    if state.messages.get(event.offline_message_id) == event.occurred_at:
        return False
    state.messages[event.offline_message_id] = event.occurred_at
    return True


def message_gone(state: SummaryState, event: OfflineMessageTaken | OfflineMessageClosed) -> bool:
    # Taken by an operator (a close always comes after a take): it no longer waits.
    return state.messages.pop(event.offline_message_id, None) is not None
