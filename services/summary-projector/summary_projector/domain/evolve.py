"""apply(state, event): how each event changes the summary state, in place. A rebuild is a fold
of this.

Tolerant: an event about something the state does not hold (a hold for a session that ended, an
offer closed twice) changes nothing rather than failing, so a late event never wedges the fold.
Order matters, though: a message that failed is retried after those prefetched behind it, so the
rules that would leave a phantom when overtaken by their successor (an offer after its chat
started, a queueing after its own offer) recognise that and change nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from livechat_shared.contracts import events as e

from summary_projector.domain import operators, queues, settings
from summary_projector.domain.state import SummaryState


def apply(state: SummaryState, event: e.Event) -> bool:
    """Change `state` by `event`, in place; whether it changed (False: the event is about
    nothing the state holds, or repeats what it holds)."""
    rule = EVENT_HANDLERS.get(type(event))
    return rule is not None and rule(state, event)


def affects_summary(event: e.Event) -> bool:
    """Whether events of this type can change the summary at all (others are only archived)."""
    return type(event) in EVENT_HANDLERS


EVENT_HANDLERS: dict[type[e.Event], Callable[[SummaryState, Any], bool]] = {
    e.VisitorQueued: queues.queued,
    e.VisitorRequeued: queues.queued,
    e.VisitorAbandoned: queues.abandoned,
    e.ChatOffered: queues.offered,
    e.VisitorInvited: queues.invited,
    e.OfferDeclined: queues.offer_closed,
    e.OfferPutBack: queues.offer_closed,
    e.OfferTimedOut: queues.offer_closed,
    e.OfferWithdrawn: queues.offer_closed,
    e.InvitationDeclined: queues.invitation_closed,
    e.InvitationExpired: queues.invitation_closed,
    e.MessageLeft: queues.message_left,
    e.OfflineMessageTaken: queues.message_gone,
    e.OfflineMessageClosed: queues.message_gone,
    e.ChatStarted: operators.started,
    e.ChatHeld: operators.held_or_resumed,
    e.ChatResumed: operators.held_or_resumed,
    e.ChatEnded: operators.ended,
    e.OperatorPresenceChanged: operators.presence,
    e.OperatorSlotsChanged: operators.slots,
    e.OperatorCapacityChanged: operators.own_maximum,
    e.SiteMaxChatsChanged: settings.site_maximum,
}
