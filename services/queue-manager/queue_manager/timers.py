"""The queue manager's timers: offer and invitation expiry, armed when decided, re-armed on load
and each time the broker comes back.

A timer is a command the queue manager sends itself through a timer queue. Expiring an offer or
invitation that was answered meanwhile decides nothing, so a timer that fires twice (the first
copy survived in its queue, a re-armed copy followed) is harmless.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from livechat_shared.contracts import ExpireInvitation, ExpireOffer

from queue_manager.domain import RoutingPolicy, Site
from queue_manager.ports import Publisher

REARM_MINIMUM_SECONDS = 1.0
"""A re-armed timer that fell due while the service was down fires this soon after start-up,
once the service consumes again."""

Timer = ExpireOffer | ExpireInvitation


def pending(
    sites: Iterable[Site], policy: RoutingPolicy, now: datetime
) -> list[tuple[float, float, Timer]]:
    """(delay, seconds left, timer) of every pending offer and invitation, soonest first.

    A re-armed timer gets a fresh id: it must be decided even when the first copy was decided
    already (then it finds nothing to expire), never taken for a redelivery whose stored events
    would be published again.
    """
    found: list[tuple[float, float, Timer]] = []
    offer_delay = policy.offer_timeout.total_seconds()
    invitation_delay = policy.invitation_timeout.total_seconds()
    for site in sites:
        for offer in site.offers.values():
            command: Timer = ExpireOffer(
                command_id=uuid.uuid4(),
                site_id=site.site_id,
                correlation_id=str(offer.offer_id),
                offer_id=offer.offer_id,
            )
            found.append((offer_delay, _left(offer.expires_at, now), command))
        for invitation in site.invitations.values():
            command = ExpireInvitation(
                command_id=uuid.uuid4(),
                site_id=site.site_id,
                correlation_id=str(invitation.invitation_id),
                invitation_id=invitation.invitation_id,
            )
            found.append((invitation_delay, _left(invitation.expires_at, now), command))
    # Published soonest first: a timer queue expires messages only at its head, so one that
    # is due sooner must not queue behind one due later.
    found.sort(key=lambda timer: timer[1])
    return found


async def rearm(
    sites: Iterable[Site], publisher: Publisher, policy: RoutingPolicy, now: datetime
) -> int:
    """Publish a timer for every pending offer and invitation, due when it was due (or soon).

    Timers already waiting in their queues survive broker restarts; re-arming covers those
    held back (RabbitMQ retries one its target did not confirm only minutes later) or lost
    anyway (a timer queue deleted or purged, an upgrade from the classic delay queues).
    """
    timers = pending(sites, policy, now)
    for delay, left, command in timers:
        await publisher.publish_delayed(command, delay, due_in_seconds=left)
    return len(timers)


def _left(expires_at: datetime, now: datetime) -> float:
    return max(REARM_MINIMUM_SECONDS, (expires_at - now).total_seconds())
