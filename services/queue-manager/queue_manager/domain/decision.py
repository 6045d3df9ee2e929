"""One decision in the making: the rules every message handler shares, each step applied at once.

Invariant kept after every decision, for each channel: an online operator that takes automatic
offers and has free capacity has no eligible visitor waiting (every waiting visitor declined
it). So a visitor who starts waiting is the longest-waiting one eligible for any free operator,
and an operator whose capacity frees takes the head of the queue it is eligible for.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from livechat_shared.contracts import (
    AcceptOffer,
    Channel,
    ChatOffered,
    Command,
    CommandRejected,
    DeclineOffer,
    Event,
    InvitationDeclined,
    InvitationExpired,
    Message,
    OperatorSlotsChanged,
    Presence,
    PutBackInQueue,
    VisitorRequeued,
)

from queue_manager.domain.evolve import apply
from queue_manager.domain.model import Offer, Operator, Site, Visitor
from queue_manager.domain.policy import RoutingPolicy

NewId = Callable[[], uuid.UUID]


@dataclass(frozen=True, slots=True)
class Slots:
    max_slots: int
    used_slots: int
    free_slots: int


class Decision:
    def __init__(
        self, site: Site, cause: Message, now: datetime, policy: RoutingPolicy, new_id: NewId
    ) -> None:
        self.site = site
        self.cause = cause
        self.now = now
        self.policy = policy
        self.new_id = new_id
        self.events: list[Event] = []
        self.slots_before: dict[tuple[str, Channel], Slots | None] = {}
        """The slots, before this decision, of each operator its cause or events name: only
        those can move (every event that changes a load or a maximum names its operator), so a
        decision costs the same however many operators the site has."""

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
        self.note_slots(event)
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

    def free_slots(self, operator: Operator, channel: Channel) -> int:
        return self.policy.free_slots(
            channel,
            operator.max_chats,
            chat_load=operator.load(Channel.CHAT),
            call_load=operator.load(Channel.CALL),
            site_max_chats=self.site.max_chats,
        )

    def slots(self, operator: Operator, channel: Channel) -> Slots:
        """What `OperatorSlotsChanged` says: the maximum, what counts against it, what is free
        (never below zero, though a lowered maximum may leave an operator over it)."""
        return Slots(
            max_slots=self.policy.capacity(channel, operator.max_chats, self.site.max_chats),
            used_slots=operator.load(channel),
            free_slots=max(0, self.free_slots(operator, channel)),
        )

    def note_slots(self, message: Message) -> None:
        """Remember the slots of the operator `message` names, before anything changes them
        (the cause too: a rule may add the operator it names to the site before any event)."""
        operator_id = getattr(message, "operator_id", None)
        if isinstance(operator_id, str):
            self.note_operator(operator_id)

    def note_operator(self, operator_id: str) -> None:
        """Remember an operator's slots before this decision changes them (once per decision)."""
        if (operator_id, Channel.CHAT) in self.slots_before:
            return
        operator = self.site.operators.get(operator_id)
        for channel in Channel:
            self.slots_before[operator_id, channel] = (
                None if operator is None else self.slots(operator, channel)
            )

    def announce_slots(self) -> None:
        """Publish each operator's slots that this decision changed (or that were never
        published: an operator first seen), so no one else has to recount capacity."""
        for (operator_id, channel), before in list(self.slots_before.items()):
            operator = self.site.operators.get(operator_id)
            if operator is None:
                continue
            slots = self.slots(operator, channel)
            if slots != before:
                self.publish_slots(operator_id, channel, slots)

    def publish_slots(self, operator_id: str, channel: Channel, slots: Slots) -> None:
        self.emit(
            OperatorSlotsChanged,
            operator_id=operator_id,
            channel=channel,
            max_slots=slots.max_slots,
            used_slots=slots.used_slots,
            free_slots=slots.free_slots,
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
