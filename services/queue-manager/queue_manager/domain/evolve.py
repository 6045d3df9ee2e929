"""apply(site, event): how each event changes the state. Replaying the journal is a fold of this."""

from __future__ import annotations

import uuid
from functools import singledispatch

from livechat_shared.contracts import (
    ChatEnded,
    ChatOffered,
    ChatStarted,
    Event,
    InvitationDeclined,
    InvitationExpired,
    NextChatRequested,
    OfferDeclined,
    OfferPutBack,
    OfferTimedOut,
    OfferWithdrawn,
    OperatorCapacityChanged,
    OperatorConnected,
    OperatorDisconnected,
    OperatorPresenceChanged,
    Presence,
    SiteMaxChatsChanged,
    VisitorAbandoned,
    VisitorInvited,
    VisitorQueued,
    VisitorRequeued,
)

from queue_manager.domain.model import Chat, Invitation, Offer, Site, Visitor


def apply(site: Site, event: Event) -> Site:
    """Apply one event in place and return the site (events this service ignores change nothing)."""
    _apply(event, site)
    return site


@singledispatch
def _apply(event: Event, site: Site) -> None:
    """Informational events (OperatorFreed, CommandRejected, ...) leave the state as it is."""


@_apply.register
def _(event: VisitorQueued, site: Site) -> None:
    visitor = Visitor((event.waiting_since, site.arrivals, event.visitor_id), event.channel)
    site.arrivals += 1
    site.visitors[visitor.visitor_id] = visitor
    site.queues[visitor.channel].add(visitor.queue_key)


@_apply.register
def _(event: VisitorRequeued, site: Site) -> None:
    visitor = site.visitors[event.visitor_id]
    site.queues[visitor.channel].add(visitor.queue_key)


@_apply.register
def _(event: VisitorAbandoned, site: Site) -> None:
    visitor = site.visitors.pop(event.visitor_id)
    site.queues[visitor.channel].discard(visitor.queue_key)


@_apply.register
def _(event: ChatOffered, site: Site) -> None:
    visitor = site.visitors[event.visitor_id]
    site.queues[visitor.channel].remove(visitor.queue_key)
    visitor.offer_id = event.offer_id
    site.offers[event.offer_id] = Offer(
        event.offer_id, event.visitor_id, event.operator_id, event.channel, event.expires_at
    )
    operator = site.operator(event.operator_id)
    operator.offers[event.channel].add(event.offer_id)
    operator.idle_since = event.occurred_at
    site.recent_exits[visitor.channel].append(event.occurred_at)


def _close_offer(site: Site, offer_id: uuid.UUID) -> Offer:
    offer = site.offers.pop(offer_id)
    site.operators[offer.operator_id].offers[offer.channel].discard(offer_id)
    visitor = site.visitors.get(offer.visitor_id)
    if visitor is not None:
        visitor.offer_id = None
    return offer


@_apply.register
def _(event: OfferDeclined, site: Site) -> None:
    _close_offer(site, event.offer_id)
    visitor = site.visitors[event.visitor_id]
    visitor.declined_by = visitor.declined_by | {event.operator_id}


@_apply.register
def _(event: OfferPutBack, site: Site) -> None:
    _close_offer(site, event.offer_id)
    visitor = site.visitors[event.visitor_id]
    visitor.declined_by = visitor.declined_by | {event.operator_id}
    site.operators[event.operator_id].auto_offers = False


@_apply.register
def _(event: OfferTimedOut, site: Site) -> None:
    _close_offer(site, event.offer_id)


@_apply.register
def _(event: OfferWithdrawn, site: Site) -> None:
    _close_offer(site, event.offer_id)


def _close_invitation(site: Site, invitation_id: uuid.UUID) -> None:
    invitation = site.invitations.pop(invitation_id)
    site.operators[invitation.operator_id].offers[invitation.channel].discard(invitation_id)
    del site.invited[invitation.visitor_id]


@_apply.register
def _(event: VisitorInvited, site: Site) -> None:
    site.invitations[event.invitation_id] = Invitation(
        event.invitation_id, event.visitor_id, event.operator_id, event.channel, event.expires_at
    )
    site.invited[event.visitor_id] = event.invitation_id
    site.operator(event.operator_id).offers[event.channel].add(event.invitation_id)


@_apply.register
def _(event: InvitationDeclined | InvitationExpired, site: Site) -> None:
    _close_invitation(site, event.invitation_id)


@_apply.register
def _(event: ChatStarted, site: Site) -> None:
    if event.session_id in site.offers:
        _close_offer(site, event.session_id)
    elif event.session_id in site.invitations:
        _close_invitation(site, event.session_id)
    visitor = site.visitors.pop(event.visitor_id, None)
    if visitor is not None and visitor.queue_key in site.queues[visitor.channel]:
        site.queues[visitor.channel].remove(visitor.queue_key)  # picked straight from the queue
        site.recent_exits[visitor.channel].append(event.occurred_at)
    site.chats[event.session_id] = Chat(
        event.session_id, event.visitor_id, event.operator_id, event.channel
    )
    site.in_chat[event.visitor_id] = event.session_id
    site.operators[event.operator_id].chats[event.channel].add(event.session_id)


@_apply.register
def _(event: ChatEnded, site: Site) -> None:
    chat = site.chats.pop(event.session_id)
    site.in_chat.pop(chat.visitor_id, None)
    site.operators[chat.operator_id].chats[chat.channel].discard(event.session_id)


@_apply.register
def _(event: OperatorPresenceChanged, site: Site) -> None:
    operator = site.operator(event.operator_id)
    operator.presence = event.presence
    if event.reason == "disconnected":  # its consoles are gone: nothing left to wait for
        operator.consoles.clear()
        operator.console_gone_at = None
    if event.presence is Presence.ONLINE:
        operator.idle_since = event.occurred_at
        operator.auto_offers = True


@_apply.register
def _(event: OperatorCapacityChanged, site: Site) -> None:
    site.operator(event.operator_id).max_chats = event.max_chats


@_apply.register
def _(event: SiteMaxChatsChanged, site: Site) -> None:
    site.max_chats = None if event.from_default else event.max_chats


@_apply.register
def _(event: NextChatRequested, site: Site) -> None:
    site.operator(event.operator_id).auto_offers = True


@_apply.register
def _(event: OperatorConnected, site: Site) -> None:
    operator = site.operator(event.operator_id)
    operator.consoles[event.replica_id] = event.occurred_at
    operator.console_gone_at = None


@_apply.register
def _(event: OperatorDisconnected, site: Site) -> None:
    operator = site.operator(event.operator_id)
    if operator.consoles.pop(event.replica_id, None) is not None:
        operator.console_gone_at = event.occurred_at
