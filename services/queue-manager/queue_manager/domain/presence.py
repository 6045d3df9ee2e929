"""Operators' presence and their own maximum number of chats."""

from __future__ import annotations

from livechat_shared.contracts import (
    Channel,
    InvitationExpired,
    OfferWithdrawn,
    OperatorCapacityChanged,
    OperatorPresenceChanged,
    Presence,
    SetOperatorCapacity,
    SetOperatorPresence,
)

from queue_manager.domain.decision import Decision


def set_presence(d: Decision, m: SetOperatorPresence) -> None:
    operator = d.site.operator(m.operator_id)
    if operator.presence is m.presence:
        return
    d.emit(OperatorPresenceChanged, operator_id=m.operator_id, presence=m.presence)
    if m.presence is Presence.OFFLINE:
        withdrawn = [
            d.site.offers[o]
            for ch in Channel
            for o in sorted(operator.offers[ch])
            if o in d.site.offers  # the rest are invitations, handled below
        ]
        requeued = []
        for offer in withdrawn:
            d.emit(
                OfferWithdrawn,
                offer_id=offer.offer_id,
                visitor_id=offer.visitor_id,
                operator_id=offer.operator_id,
                reason="operator_offline",
            )
            requeued.append(d.requeue(offer, "operator_offline"))
        for visitor in sorted(requeued, key=lambda v: v.queue_key):
            d.route(visitor)
        for invitation_id in [
            i.invitation_id for i in d.site.invitations.values() if i.operator_id == m.operator_id
        ]:
            d.end_invitation(invitation_id, InvitationExpired, refill=False)
    elif m.presence is Presence.ONLINE:
        d.fill(operator)


def set_capacity(d: Decision, m: SetOperatorCapacity) -> None:
    operator = d.site.operator(m.operator_id)
    if operator.max_chats == m.max_chats:
        return
    d.emit(OperatorCapacityChanged, operator_id=m.operator_id, max_chats=m.max_chats)
    d.fill(operator)
