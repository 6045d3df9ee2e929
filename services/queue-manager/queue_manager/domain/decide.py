"""decide(site, message, now): the routing rules. Each step's event is applied before the next.

Invariant kept after every decision, for each channel: an online operator that takes automatic
offers and has free capacity has no eligible visitor waiting (every waiting visitor declined
it). So a visitor who starts waiting is the longest-waiting one eligible for any free operator,
and an operator whose capacity frees takes the head of the queue it is eligible for.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from livechat_shared.contracts import (
    AcceptOffer,
    AnswerInvitation,
    Channel,
    ChatEnded,
    ChatOffered,
    ChatStarted,
    Command,
    CommandRejected,
    DeclineOffer,
    Event,
    ExpireInvitation,
    ExpireOffer,
    InvitationDeclined,
    InvitationExpired,
    InviteVisitor,
    Message,
    NextChatRequested,
    OfferDeclined,
    OfferPutBack,
    OfferTimedOut,
    OfferWithdrawn,
    OperatorCapacityChanged,
    OperatorFreed,
    OperatorPresenceChanged,
    PickVisitor,
    Presence,
    PutBackInQueue,
    QueuePositionsChanged,
    RequestNextChat,
    SetOperatorCapacity,
    SetOperatorPresence,
    VisitorAbandoned,
    VisitorInvited,
    VisitorLeftQueue,
    VisitorQueued,
    VisitorRequeued,
    VisitorWaiting,
)

from queue_manager.domain.evolve import apply
from queue_manager.domain.model import Offer, Operator, Site, Visitor
from queue_manager.domain.policy import RoutingPolicy

NewId = Callable[[], uuid.UUID]


def decide(
    site: Site, message: Message, now: datetime, policy: RoutingPolicy, new_id: NewId
) -> list[Event]:
    """Decide what `message` means for the site, apply it, and return the events in order.

    A consumed fact this service keeps (ChatEnded) comes back first in the list.
    """
    decision = _Decision(site, message, now, policy, new_id)
    handler = _HANDLERS.get(type(message))
    if handler is not None:
        heads = {channel: site.head(channel) for channel in Channel}
        handler(decision, message)
        for channel, before in heads.items():
            if site.head(channel) != before:
                decision.emit(
                    QueuePositionsChanged,
                    channel=channel,
                    waiting=site.head(channel),
                    total_waiting=len(site.queues[channel]),
                    seconds_per_position=site.seconds_per_position(channel),
                )
    return decision.events


class _Decision:
    def __init__(
        self, site: Site, cause: Message, now: datetime, policy: RoutingPolicy, new_id: NewId
    ) -> None:
        self.site = site
        self.cause = cause
        self.now = now
        self.policy = policy
        self.new_id = new_id
        self.events: list[Event] = []

    # --- recording ------------------------------------------------------------------------

    def emit(self, event_type: type[Event], **fields: Any) -> None:
        event = event_type(
            event_id=self.new_id(),
            occurred_at=self.now,
            correlation_id=self.cause.correlation_id,
            site_id=self.site.site_id,
            **fields,
        )
        self.keep(event)

    def keep(self, event: Event) -> None:
        apply(self.site, event)
        self.events.append(event)

    def reject(self, reason: str, operator_id: str | None = None) -> None:
        assert isinstance(self.cause, Command)
        self.emit(
            CommandRejected,
            command_id=self.cause.command_id,
            command_type=self.cause.type_name(),
            operator_id=operator_id,
            reason=reason,
        )

    # --- rules ----------------------------------------------------------------------------

    def capacity(self, operator: Operator, channel: Channel) -> int:
        return self.policy.capacity(channel, operator.max_chats)

    def free_slots(self, operator: Operator, channel: Channel) -> int:
        return self.policy.room(
            channel,
            operator.max_chats,
            chat_load=operator.load(Channel.CHAT),
            call_load=operator.load(Channel.CALL),
        )

    def takes_offers(self, operator: Operator, channel: Channel) -> bool:
        return (
            operator.presence is Presence.ONLINE
            and operator.auto_offers
            and self.free_slots(operator, channel) > 0
        )

    def longest_waiting_for(self, operator: Operator, channel: Channel) -> Visitor | None:
        for key in self.site.queues[channel]:
            visitor = self.site.visitors[key[2]]
            if operator.operator_id not in visitor.declined_by:
                return visitor
        return None

    def offer(self, visitor: Visitor, operator: Operator) -> None:
        self.emit(
            ChatOffered,
            offer_id=self.new_id(),
            visitor_id=visitor.visitor_id,
            operator_id=operator.operator_id,
            channel=visitor.channel,
            waiting_since=visitor.waiting_since,
            expires_at=self.now + self.policy.offer_timeout,
        )

    def route(self, visitor: Visitor) -> None:
        """Offer a visitor who just started waiting to the least-loaded free operator."""
        candidates = [
            operator
            for operator in self.site.operators.values()
            if self.takes_offers(operator, visitor.channel)
            and operator.operator_id not in visitor.declined_by
        ]
        if not candidates:
            return
        best = min(
            candidates,
            key=lambda o: (o.load(visitor.channel), o.idle_since or self.now, o.operator_id),
        )
        self.offer(visitor, best)

    def fill(self, operator: Operator) -> None:
        """Give an operator with free capacity the longest-waiting visitors it may take."""
        for channel in Channel:
            while self.takes_offers(operator, channel):
                visitor = self.longest_waiting_for(operator, channel)
                if visitor is None:
                    break
                self.offer(visitor, operator)

    def requeue(self, offer: Offer, reason: str) -> Visitor:
        visitor = self.site.visitors[offer.visitor_id]
        self.emit(
            VisitorRequeued,
            visitor_id=visitor.visitor_id,
            channel=visitor.channel,
            waiting_since=visitor.waiting_since,
            reason=reason,
        )
        return visitor

    def end_invitation(
        self,
        invitation_id: uuid.UUID,
        outcome: type[InvitationDeclined] | type[InvitationExpired],
        refill: bool = True,
    ) -> None:
        invitation = self.site.invitations[invitation_id]
        self.emit(
            outcome,
            invitation_id=invitation_id,
            visitor_id=invitation.visitor_id,
            operator_id=invitation.operator_id,
        )
        if refill:
            self.fill(self.site.operators[invitation.operator_id])

    def pending_offer(self, command: AcceptOffer | DeclineOffer | PutBackInQueue) -> Offer | None:
        offer = self.site.offers.get(command.offer_id)
        if offer is None:
            self.reject("the offer is no longer pending", command.operator_id)
            return None
        if offer.operator_id != command.operator_id:
            self.reject("the offer was made to another operator", command.operator_id)
            return None
        return offer


# --- one function per message type ------------------------------------------------------------


def _visitor_waiting(d: _Decision, m: VisitorWaiting) -> None:
    if m.visitor_id in d.site.visitors or m.visitor_id in d.site.in_chat:
        return  # already waiting, offered or served: asking again changes nothing
    if (invitation_id := d.site.invited.get(m.visitor_id)) is not None:
        d.end_invitation(invitation_id, InvitationDeclined)  # it chose the queue instead
    d.emit(
        VisitorQueued,
        visitor_id=m.visitor_id,
        channel=m.channel,
        waiting_since=m.occurred_at,
        badge=m.badge,
    )
    d.route(d.site.visitors[m.visitor_id])


def _visitor_left(d: _Decision, m: VisitorLeftQueue) -> None:
    visitor = d.site.visitors.get(m.visitor_id)
    if visitor is None:
        return
    freed: Operator | None = None
    if visitor.offer_id is not None:
        offer = d.site.offers[visitor.offer_id]
        freed = d.site.operators[offer.operator_id]
        d.emit(
            OfferWithdrawn,
            offer_id=offer.offer_id,
            visitor_id=visitor.visitor_id,
            operator_id=offer.operator_id,
            reason="visitor_left",
        )
    waited = max(0.0, (d.now - visitor.waiting_since).total_seconds())
    d.emit(
        VisitorAbandoned,
        visitor_id=visitor.visitor_id,
        channel=visitor.channel,
        waited_seconds=waited,
    )
    if freed is not None:
        d.fill(freed)


def _chat_ended(d: _Decision, m: ChatEnded) -> None:
    chat = d.site.chats.get(m.session_id)
    if chat is None:
        return  # not a session this queue manager started (or it ended already)
    d.keep(m)
    operator = d.site.operators[chat.operator_id]
    if (free := d.free_slots(operator, chat.channel)) > 0:
        d.emit(
            OperatorFreed, operator_id=operator.operator_id, channel=chat.channel, free_slots=free
        )
    d.fill(operator)


def _set_presence(d: _Decision, m: SetOperatorPresence) -> None:
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


def _set_capacity(d: _Decision, m: SetOperatorCapacity) -> None:
    operator = d.site.operator(m.operator_id)
    if operator.max_chats == m.max_chats:
        return
    d.emit(OperatorCapacityChanged, operator_id=m.operator_id, max_chats=m.max_chats)
    d.fill(operator)


def _accept(d: _Decision, m: AcceptOffer) -> None:
    offer = d.pending_offer(m)
    if offer is None:
        return
    visitor = d.site.visitors[offer.visitor_id]
    d.emit(
        ChatStarted,
        session_id=offer.offer_id,
        visitor_id=offer.visitor_id,
        operator_id=offer.operator_id,
        channel=offer.channel,
        waited_seconds=max(0.0, (d.now - visitor.waiting_since).total_seconds()),
    )


def _decline(d: _Decision, m: DeclineOffer) -> None:
    offer = d.pending_offer(m)
    if offer is None:
        return
    ids = {"offer_id": offer.offer_id, "visitor_id": offer.visitor_id}
    d.emit(OfferDeclined, operator_id=offer.operator_id, **ids)
    visitor = d.requeue(offer, "declined")
    d.fill(d.site.operators[offer.operator_id])
    if visitor.offer_id is None:
        d.route(visitor)


def _put_back(d: _Decision, m: PutBackInQueue) -> None:
    offer = d.pending_offer(m)
    if offer is None:
        return
    ids = {"offer_id": offer.offer_id, "visitor_id": offer.visitor_id}
    d.emit(OfferPutBack, operator_id=offer.operator_id, **ids)
    d.route(d.requeue(offer, "put_back"))


def _expire(d: _Decision, m: ExpireOffer) -> None:
    offer = d.site.offers.get(m.offer_id)
    if offer is None:
        return  # answered (or withdrawn) in time
    operator = d.site.operators[offer.operator_id]
    ids = {"offer_id": offer.offer_id, "visitor_id": offer.visitor_id}
    d.emit(OfferTimedOut, operator_id=offer.operator_id, **ids)
    visitor = d.requeue(offer, "timed_out")
    if operator.presence is Presence.ONLINE:
        d.emit(
            OperatorPresenceChanged,
            operator_id=operator.operator_id,
            presence=Presence.AWAY,
            reason="offer_timed_out",
        )
    d.route(visitor)


def _next(d: _Decision, m: RequestNextChat) -> None:
    operator = d.site.operators.get(m.operator_id)
    if operator is None or operator.presence is not Presence.ONLINE:
        d.reject("the operator is not online", m.operator_id)
        return
    if d.free_slots(operator, m.channel) <= 0:
        d.reject(f"the operator has no free {m.channel.value} capacity", m.operator_id)
        return
    d.emit(NextChatRequested, operator_id=m.operator_id, channel=m.channel)
    visitor = d.longest_waiting_for(operator, m.channel)
    if visitor is None:
        d.reject(f"nobody is waiting in the {m.channel.value} queue", m.operator_id)
    else:
        d.offer(visitor, operator)
    d.fill(operator)


def _pick(d: _Decision, m: PickVisitor) -> None:
    operator = d.site.operators.get(m.operator_id)
    if operator is None or operator.presence is Presence.OFFLINE:
        d.reject("the operator is offline", m.operator_id)
        return
    visitor = d.site.visitors.get(m.visitor_id)
    if visitor is None:
        d.reject("the visitor is not waiting", m.operator_id)
        return
    if visitor.offer_id is not None:
        d.reject("the visitor is being offered to an operator", m.operator_id)
        return
    channel = m.channel or visitor.channel
    if d.free_slots(operator, channel) <= 0:
        d.reject(f"the operator has no free {channel.value} capacity", m.operator_id)
        return
    d.emit(
        ChatStarted,
        session_id=d.new_id(),
        visitor_id=visitor.visitor_id,
        operator_id=operator.operator_id,
        channel=channel,
        waited_seconds=max(0.0, (d.now - visitor.waiting_since).total_seconds()),
        origin="pick",
    )


def _invite(d: _Decision, m: InviteVisitor) -> None:
    operator = d.site.operators.get(m.operator_id)
    if operator is None or operator.presence is Presence.OFFLINE:
        d.reject("the operator is offline", m.operator_id)
        return
    if m.visitor_id in d.site.in_chat:
        d.reject("the visitor is in a chat already", m.operator_id)
        return
    if m.visitor_id in d.site.visitors:
        d.reject("the visitor waits in the queue: pick it instead", m.operator_id)
        return
    if m.visitor_id in d.site.invited:
        d.reject("the visitor has a pending invitation", m.operator_id)
        return
    if d.free_slots(operator, m.channel) <= 0:
        d.reject(f"the operator has no free {m.channel.value} capacity", m.operator_id)
        return
    d.emit(
        VisitorInvited,
        invitation_id=d.new_id(),
        visitor_id=m.visitor_id,
        operator_id=m.operator_id,
        channel=m.channel,
        expires_at=d.now + d.policy.invitation_timeout,
    )


def _answer_invitation(d: _Decision, m: AnswerInvitation) -> None:
    invitation = d.site.invitations.get(m.invitation_id)
    if invitation is None or invitation.visitor_id != m.visitor_id:
        d.emit(
            CommandRejected,
            command_id=m.command_id,
            command_type=m.type_name(),
            visitor_id=m.visitor_id,
            reason="the invitation is no longer open",
        )
        return
    if not m.accept:
        d.end_invitation(invitation.invitation_id, InvitationDeclined)
        return
    d.emit(
        ChatStarted,
        session_id=invitation.invitation_id,
        visitor_id=invitation.visitor_id,
        operator_id=invitation.operator_id,
        channel=invitation.channel,
        waited_seconds=0.0,
        origin="invitation",
    )


def _expire_invitation(d: _Decision, m: ExpireInvitation) -> None:
    if m.invitation_id in d.site.invitations:
        d.end_invitation(m.invitation_id, InvitationExpired)


_HANDLERS: dict[type[Message], Callable[[_Decision, Any], None]] = {
    VisitorWaiting: _visitor_waiting,
    VisitorLeftQueue: _visitor_left,
    ChatEnded: _chat_ended,
    SetOperatorPresence: _set_presence,
    SetOperatorCapacity: _set_capacity,
    AcceptOffer: _accept,
    DeclineOffer: _decline,
    PutBackInQueue: _put_back,
    ExpireOffer: _expire,
    RequestNextChat: _next,
    PickVisitor: _pick,
    InviteVisitor: _invite,
    AnswerInvitation: _answer_invitation,
    ExpireInvitation: _expire_invitation,
}
