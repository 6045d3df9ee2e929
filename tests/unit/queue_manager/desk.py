"""A routing desk for unit tests: one site, a hand-moved clock, and short ways to send messages."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta

from livechat_shared.contracts import (
    AcceptOffer,
    AnswerInvitation,
    Channel,
    ChatEnded,
    ChatOffered,
    ChatStarted,
    DeclineOffer,
    Event,
    ExpireInvitation,
    ExpireOffer,
    InviteVisitor,
    Message,
    PickVisitor,
    Presence,
    PutBackInQueue,
    RequestNextChat,
    SetOperatorCapacity,
    SetOperatorPresence,
    VisitorInvited,
    VisitorLeftQueue,
    VisitorWaiting,
)
from queue_manager.domain import RoutingPolicy, Site, decide

SITE = "acme"
T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


class Desk:
    def __init__(self, policy: RoutingPolicy | None = None) -> None:
        self.site = Site(SITE)
        self.policy = policy or RoutingPolicy()
        self.now = T0
        self.history: list[Event] = []
        self._ids = (uuid.UUID(int=n) for n in itertools.count(1))

    def tick(self, seconds: float = 1.0) -> None:
        self.now += timedelta(seconds=seconds)

    def send(self, message: Message) -> list[Event]:
        events = decide(self.site, message, self.now, self.policy, lambda: next(self._ids))
        self.history.extend(events)
        return events

    # --- visitors ---------------------------------------------------------------------------

    def arrive(self, visitor_id: str, channel: Channel = Channel.CHAT) -> list[Event]:
        self.tick()
        return self.send(
            VisitorWaiting(
                site_id=SITE, visitor_id=visitor_id, channel=channel, occurred_at=self.now
            )
        )

    def leave(self, visitor_id: str) -> list[Event]:
        return self.send(VisitorLeftQueue(site_id=SITE, visitor_id=visitor_id))

    # --- operators --------------------------------------------------------------------------

    def presence(self, operator_id: str, presence: Presence) -> list[Event]:
        self.tick()
        return self.send(
            SetOperatorPresence(site_id=SITE, operator_id=operator_id, presence=presence)
        )

    def online(self, *operator_ids: str) -> list[Event]:
        return [e for o in operator_ids for e in self.presence(o, Presence.ONLINE)]

    def capacity(self, operator_id: str, max_chats: int | None) -> list[Event]:
        return self.send(
            SetOperatorCapacity(site_id=SITE, operator_id=operator_id, max_chats=max_chats)
        )

    def offer_to(self, operator_id: str) -> ChatOffered:
        """The operator's pending offer (exactly one expected)."""
        pending = [o for o in self.site.offers.values() if o.operator_id == operator_id]
        assert len(pending) == 1, f"{operator_id} has {len(pending)} pending offers"
        return next(
            e
            for e in reversed(self.history)
            if isinstance(e, ChatOffered) and e.offer_id == pending[0].offer_id
        )

    def accept(self, offer: ChatOffered) -> list[Event]:
        return self.send(
            AcceptOffer(site_id=SITE, offer_id=offer.offer_id, operator_id=offer.operator_id)
        )

    def decline(self, offer: ChatOffered) -> list[Event]:
        return self.send(
            DeclineOffer(site_id=SITE, offer_id=offer.offer_id, operator_id=offer.operator_id)
        )

    def put_back(self, offer: ChatOffered) -> list[Event]:
        return self.send(
            PutBackInQueue(site_id=SITE, offer_id=offer.offer_id, operator_id=offer.operator_id)
        )

    def expire(self, offer: ChatOffered) -> list[Event]:
        return self.send(ExpireOffer(site_id=SITE, offer_id=offer.offer_id))

    def next_chat(self, operator_id: str, channel: Channel = Channel.CHAT) -> list[Event]:
        return self.send(RequestNextChat(site_id=SITE, operator_id=operator_id, channel=channel))

    def pick(
        self, operator_id: str, visitor_id: str, channel: Channel | None = None
    ) -> list[Event]:
        return self.send(
            PickVisitor(
                site_id=SITE, operator_id=operator_id, visitor_id=visitor_id, channel=channel
            )
        )

    def invite(
        self, operator_id: str, visitor_id: str, channel: Channel = Channel.CHAT
    ) -> list[Event]:
        return self.send(
            InviteVisitor(
                site_id=SITE, operator_id=operator_id, visitor_id=visitor_id, channel=channel
            )
        )

    def answer_invitation(self, invited: VisitorInvited, accept: bool) -> list[Event]:
        return self.send(
            AnswerInvitation(
                site_id=SITE,
                invitation_id=invited.invitation_id,
                visitor_id=invited.visitor_id,
                accept=accept,
            )
        )

    def expire_invitation(self, invited: VisitorInvited) -> list[Event]:
        return self.send(ExpireInvitation(site_id=SITE, invitation_id=invited.invitation_id))

    def end(self, started: ChatStarted) -> list[Event]:
        return self.send(
            ChatEnded(
                site_id=SITE,
                session_id=started.session_id,
                visitor_id=started.visitor_id,
                operator_id=started.operator_id,
                channel=started.channel,
                ended_by="operator",
            )
        )

    def start_chat(self, visitor_id: str, channel: Channel = Channel.CHAT) -> ChatStarted:
        """A visitor arrives and the offer it gets is accepted."""
        offered = [e for e in self.arrive(visitor_id, channel) if isinstance(e, ChatOffered)]
        assert offered, f"{visitor_id} was not offered"
        started = [e for e in self.accept(offered[0]) if isinstance(e, ChatStarted)]
        return started[0]


def offers(events: list[Event]) -> list[tuple[str, str]]:
    return [(e.visitor_id, e.operator_id) for e in events if isinstance(e, ChatOffered)]


def types(events: list[Event]) -> list[str]:
    """Event names in order, leaving out the queue-position and slots updates (tested on their
    own: test_queue_positions.py, test_operator_slots.py)."""
    return [e.type_name() for e in events if e.type_name() not in UPDATES]


UPDATES = {"QueuePositionsChanged", "OperatorSlotsChanged"}
