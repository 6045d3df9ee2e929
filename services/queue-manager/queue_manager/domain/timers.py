"""The queue manager's timers as rules: which timer an event starts (offer expiry, invitation
expiry, the operator connection check), and the timers stored state still owes after a start
(and each time the broker comes back).

A timer is a command the queue manager sends itself through a timer queue. Expiring an offer or
invitation that was answered meanwhile decides nothing, and a connection check finds the console
back or not, so a timer that fires twice (the first copy survived in its queue, a re-armed copy
followed) is harmless. Timers follow from events, not from the decision that made them: a
redelivered message whose stored events are published again starts the very same timers.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from livechat_shared.contracts import (
    ChatOffered,
    CheckOperatorConnection,
    Event,
    ExpireInvitation,
    ExpireOffer,
    OperatorConnected,
    OperatorDisconnected,
    VisitorInvited,
)
from livechat_shared.contracts.timers import Timer

from queue_manager.domain.model import Site
from queue_manager.domain.policy import RoutingPolicy
from queue_manager.domain.presence import consoles_to_recheck

DerivedId = Callable[[str], uuid.UUID]
"""The same id for the same key: a redelivery starts the same timer again, not a second one."""


def started_by(event: Event, policy: RoutingPolicy, derived_id: DerivedId) -> Timer | None:
    rule = TIMER_RULES.get(type(event))
    return rule(event, policy, derived_id) if rule is not None else None


def _offer_expiry(event: ChatOffered, policy: RoutingPolicy, derived_id: DerivedId) -> Timer:
    expire = ExpireOffer(
        command_id=derived_id(f"expire/{event.offer_id}"),
        site_id=event.site_id,
        correlation_id=event.correlation_id,
        offer_id=event.offer_id,
    )
    return Timer(expire, policy.offer_timeout.total_seconds())


def _invitation_expiry(
    event: VisitorInvited, policy: RoutingPolicy, derived_id: DerivedId
) -> Timer:
    expire = ExpireInvitation(
        command_id=derived_id(f"expire/{event.invitation_id}"),
        site_id=event.site_id,
        correlation_id=event.correlation_id,
        invitation_id=event.invitation_id,
    )
    return Timer(expire, policy.invitation_timeout.total_seconds())


def _connection_check(
    event: OperatorConnected | OperatorDisconnected, policy: RoutingPolicy, derived_id: DerivedId
) -> Timer:
    """After the grace (and after a claim's lease, for a renewal), check the console is back."""
    delay = policy.disconnect_grace
    if isinstance(event, OperatorConnected):
        delay += policy.connection_lease
    check = CheckOperatorConnection(
        command_id=derived_id(f"check-console/{event.event_id}"),
        site_id=event.site_id,
        correlation_id=event.correlation_id,
        operator_id=event.operator_id,
    )
    return Timer(check, delay.total_seconds())


TIMER_RULES: dict[type[Event], Callable[[Any, RoutingPolicy, DerivedId], Timer]] = {
    ChatOffered: _offer_expiry,
    VisitorInvited: _invitation_expiry,
    OperatorConnected: _connection_check,
    OperatorDisconnected: _connection_check,
}
"""The events that start a timer, and the rule that makes it."""


def pending_expiries(
    sites: Iterable[Site], policy: RoutingPolicy, now: datetime, new_id: Callable[[], uuid.UUID]
) -> list[Timer]:
    """The expiry of every pending offer and invitation, due when it was due, soonest first.

    A re-armed timer gets a fresh id: it must be decided even when the first copy was decided
    already (then it finds nothing to expire), never taken for a redelivery whose stored events
    would be published again.
    """
    found: list[Timer] = []
    offer_delay = policy.offer_timeout.total_seconds()
    invitation_delay = policy.invitation_timeout.total_seconds()
    for site in sites:
        for offer in site.offers.values():
            expire_offer = ExpireOffer(
                command_id=new_id(),
                site_id=site.site_id,
                correlation_id=str(offer.offer_id),
                offer_id=offer.offer_id,
            )
            left = (offer.expires_at - now).total_seconds()
            found.append(Timer.rearmed(expire_offer, offer_delay, left))
        for invitation in site.invitations.values():
            expire_invitation = ExpireInvitation(
                command_id=new_id(),
                site_id=site.site_id,
                correlation_id=str(invitation.invitation_id),
                invitation_id=invitation.invitation_id,
            )
            left = (invitation.expires_at - now).total_seconds()
            found.append(Timer.rearmed(expire_invitation, invitation_delay, left))
    # Published soonest first: a timer queue expires messages only at its head, so one that
    # is due sooner must not queue behind one due later.
    found.sort(key=lambda timer: timer.due_in_seconds or 0.0)
    return found


def connection_rechecks(sites: Iterable[Site], policy: RoutingPolicy) -> list[Timer]:
    """After a load: a fresh check, once a lease and the grace have passed, for every operator
    whose presence hangs on console claims (a check lost with the broker would leave it online)."""
    delay = (policy.connection_lease + policy.disconnect_grace).total_seconds()
    return [
        Timer(CheckOperatorConnection(site_id=site.site_id, operator_id=operator_id), delay)
        for site in sites
        for operator_id in consoles_to_recheck(site)
    ]
