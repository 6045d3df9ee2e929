"""Operators' presence, the consoles it follows, and their own maximum number of chats.

Presence follows the console: each gateway replica says when an operator's console socket opens
there (and renews that claim while it stays open) and when the last one there closes. An online
operator whose every claim is gone for the grace period is made away (`disconnected`) and its
pending offers go back to the queue. A claim not renewed within the lease counts as gone, so the
sockets of a replica that crashed, or of a whole restarted `make run`, stop holding an operator
online. An operator that never had a console socket is left as it set itself.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from livechat_shared.contracts import (
    Channel,
    CheckOperatorConnection,
    InvitationExpired,
    OfferWithdrawn,
    OperatorCapacityChanged,
    OperatorConnected,
    OperatorDisconnected,
    OperatorPresenceChanged,
    Presence,
    SetOperatorCapacity,
    SetOperatorPresence,
)

from queue_manager.domain.decision import Decision
from queue_manager.domain.model import Operator, Site


def set_presence(decision: Decision, message: SetOperatorPresence) -> None:
    operator = decision.site.operator(message.operator_id)
    if operator.presence is message.presence:
        return
    decision.emit(
        OperatorPresenceChanged, operator_id=message.operator_id, presence=message.presence
    )
    if message.presence is Presence.OFFLINE:
        _release(decision, operator, "operator_offline")
    elif message.presence is Presence.ONLINE:
        decision.fill(operator)


def set_capacity(decision: Decision, message: SetOperatorCapacity) -> None:
    operator = decision.site.operator(message.operator_id)
    if operator.max_chats == message.max_chats:
        return
    decision.emit(
        OperatorCapacityChanged, operator_id=message.operator_id, max_chats=message.max_chats
    )
    decision.fill(operator)


def console_connected(decision: Decision, message: OperatorConnected) -> None:
    decision.keep(message)  # a consumed fact kept in the journal: the claims survive a restart


def console_disconnected(decision: Decision, message: OperatorDisconnected) -> None:
    operator = decision.site.operators.get(message.operator_id)
    if operator is not None and message.replica_id in operator.consoles:
        decision.keep(message)


def check_console(decision: Decision, message: CheckOperatorConnection) -> None:
    """The grace (or a lease) ran out: an operator whose consoles are all gone is made away."""
    operator = decision.site.operators.get(message.operator_id)
    if operator is None or operator.presence is Presence.OFFLINE:
        return
    gone = console_gone_since(operator, decision.now, decision.policy.connection_lease)
    if gone is None or decision.now - gone < decision.policy.disconnect_grace:
        return  # connected, never connected, or back within the grace: a later check decides
    if operator.presence is Presence.ONLINE:
        decision.emit(
            OperatorPresenceChanged,
            operator_id=operator.operator_id,
            presence=Presence.AWAY,
            reason="disconnected",
        )
    _release(decision, operator, "operator_disconnected")


def console_gone_since(operator: Operator, now: datetime, lease: timedelta) -> datetime | None:
    """Since when no console of the operator counts as open; None while one does (or if it
    never had one)."""
    if any(now - seen < lease for seen in operator.consoles.values()):
        return None
    ends = [seen + lease for seen in operator.consoles.values()]
    if operator.console_gone_at is not None:
        ends.append(operator.console_gone_at)
    return max(ends, default=None)


def consoles_to_recheck(site: Site) -> list[str]:
    """Operators whose presence hangs on console claims: after a restart each gets a fresh
    check, in case the one pending was lost with the broker (a check twice is harmless)."""
    return sorted(
        o.operator_id
        for o in site.operators.values()
        if o.presence is not Presence.OFFLINE and (o.consoles or o.console_gone_at is not None)
    )


def _release(decision: Decision, operator: Operator, reason: str) -> None:
    """Pending offers go back to the queue (and on to others), invitations expire."""
    withdrawn = [
        decision.site.offers[o]
        for ch in Channel
        for o in sorted(operator.offers[ch])
        if o in decision.site.offers  # the rest are invitations, handled below
    ]
    requeued = []
    for offer in withdrawn:
        decision.emit(
            OfferWithdrawn,
            offer_id=offer.offer_id,
            visitor_id=offer.visitor_id,
            operator_id=offer.operator_id,
            reason=reason,
        )
        requeued.append(decision.requeue(offer, reason))
    for visitor in sorted(requeued, key=lambda v: v.queue_key):
        decision.route(visitor)
    for invitation_id in [
        i.invitation_id
        for i in decision.site.invitations.values()
        if i.operator_id == operator.operator_id
    ]:
        decision.end_invitation(invitation_id, InvitationExpired, refill=False)
