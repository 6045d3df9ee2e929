"""decide(site, message, now): which rule handles which message, then the queue positions.

The rules and the invariant they keep are in decision.py; each step's event is applied at once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from livechat_shared.contracts import (
    AcceptOffer,
    AnnounceSiteSettings,
    AnswerInvitation,
    Channel,
    ChatEnded,
    CheckOperatorConnection,
    DeclineOffer,
    Event,
    ExpireInvitation,
    ExpireOffer,
    InviteVisitor,
    Message,
    OperatorConnected,
    OperatorDisconnected,
    PickVisitor,
    PutBackInQueue,
    QueuePositionsChanged,
    RequestNextChat,
    SetOperatorCapacity,
    SetOperatorPresence,
    SetSiteMaxChats,
    VisitorLeftQueue,
    VisitorWaiting,
)

from queue_manager.domain import answers, invitations, presence, queueing, site_settings
from queue_manager.domain.decision import Decision, NewId
from queue_manager.domain.model import Site
from queue_manager.domain.policy import RoutingPolicy


def decide(
    site: Site,
    message: Message,
    now: datetime,
    policy: RoutingPolicy,
    new_id: NewId,
    *,
    positions: bool = True,
) -> list[Event]:
    """Decide what `message` means for the site, apply it, and return the events in order.

    A consumed fact this service keeps (ChatEnded) comes back first in the list. With
    `positions=False` the queue positions are left out: a batch announces them once for all
    its decisions (see `announce_positions`).
    """
    decision = Decision(site, message, now, policy, new_id)
    handler = EVENT_HANDLERS.get(type(message)) or COMMAND_HANDLERS.get(type(message))
    if handler is not None:
        before = heads(site) if positions else None
        decision.note_slots(message)
        handler(decision, message)
        decision.announce_slots()
        if before is not None:
            _announce(decision, before)
    return decision.events


Heads = dict[Channel, list[str]]


def heads(site: Site) -> Heads:
    """The first waiting visitors of each channel, to tell later whether positions moved."""
    return {channel: site.head(channel) for channel in Channel}


def announce_positions(
    site: Site, before: Heads, cause: Message, now: datetime, policy: RoutingPolicy, new_id: NewId
) -> list[Event]:
    """A QueuePositionsChanged for each channel whose head differs from `before` (taken before
    one decision, or before a batch of them: then at most one per channel for the batch)."""
    decision = Decision(site, cause, now, policy, new_id)
    _announce(decision, before)
    return decision.events


def _announce(decision: Decision, before: Heads) -> None:
    site = decision.site
    for channel, was in before.items():
        if (now_waiting := site.head(channel)) != was:
            decision.emit(
                QueuePositionsChanged,
                channel=channel,
                waiting=now_waiting,
                total_waiting=len(site.queues[channel]),
                seconds_per_position=site.seconds_per_position(channel),
            )


Rule = Callable[[Decision, Any], None]
"""A rule: it records on the decision the events (and timers) the message leads to."""

EVENT_HANDLERS: dict[type[Message], Rule] = {
    VisitorWaiting: queueing.visitor_waiting,
    VisitorLeftQueue: queueing.visitor_left,
    ChatEnded: queueing.chat_ended,
    OperatorConnected: presence.console_connected,
    OperatorDisconnected: presence.console_disconnected,
}
"""Facts other services published that move the queues or an operator's presence."""

COMMAND_HANDLERS: dict[type[Message], Rule] = {
    SetOperatorPresence: presence.set_presence,
    SetOperatorCapacity: presence.set_capacity,
    SetSiteMaxChats: site_settings.set_site_max_chats,
    AnnounceSiteSettings: site_settings.announce,
    CheckOperatorConnection: presence.check_console,
    AcceptOffer: answers.accept,
    DeclineOffer: answers.decline,
    PutBackInQueue: answers.put_back,
    ExpireOffer: answers.expire,
    RequestNextChat: answers.next_visitor,
    PickVisitor: answers.pick,
    InviteVisitor: invitations.invite,
    AnswerInvitation: invitations.answer_invitation,
    ExpireInvitation: invitations.expire_invitation,
}
"""What operators, visitors and the service's own timers ask of the queues."""
