"""Realistic event streams for the projector: the queue manager's own rules run a random site.

It imports `queue_manager.domain`: tests may use another service's code, services never do. The
session service's part (hold, resume, end) and offline messages are played here as synthetic
events for chats that really started, and `recount` reads the expected summary off the owning
state: the queue manager's Site plus the holds and messages generated here.
"""

from __future__ import annotations

import itertools
import random
import uuid
from datetime import UTC, datetime, timedelta

from livechat_shared.contracts import (
    AcceptOffer,
    AnnounceSiteSettings,
    AnswerInvitation,
    Channel,
    ChatEnded,
    ChatHeld,
    ChatResumed,
    ChatStarted,
    DeclineOffer,
    Event,
    ExpireInvitation,
    ExpireOffer,
    InviteVisitor,
    Message,
    MessageLeft,
    OfflineMessageClosed,
    OfflineMessageTaken,
    PickVisitor,
    Presence,
    PutBackInQueue,
    RequestNextChat,
    SetOperatorCapacity,
    SetOperatorPresence,
    SetSiteMaxChats,
    VisitorLeftQueue,
    VisitorWaiting,
)
from queue_manager.domain import RoutingPolicy, Site, decide

SITE = "acme"
T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
VISITORS = [f"v{i}" for i in range(10)]
OPERATORS = ["ann", "bob", "cid", "dot.e"]
POLICY = RoutingPolicy(max_chats=2, max_calls=1)


class Workload:
    """One site under the real routing rules; `events` is all the projector would consume."""

    def __init__(self, seed: int, policy: RoutingPolicy = POLICY) -> None:
        self.random = random.Random(seed)
        self.policy = policy
        self.site = Site(SITE)
        self.now = T0
        self.events: list[Event] = []
        self.started: dict[uuid.UUID, ChatStarted] = {}
        self.held: set[uuid.UUID] = set()
        self.messages: dict[uuid.UUID, datetime] = {}
        """Offline messages waiting (the offline-messages service's part, played here)."""
        self.taken: list[OfflineMessageTaken] = []
        self._ids = (uuid.UUID(int=n) for n in itertools.count(1))
        self._actions = [
            (self.arrive, 6),
            (self.leave, 2),
            (self.presence, 3),
            (self.capacity, 1),
            (self.site_max, 1),
            (self.announce, 1),
            (self.answer, 6),
            (self.next_chat, 1),
            (self.pick, 1),
            (self.hold_or_resume, 3),
            (self.end, 3),
            (self.invite, 2),
            (self.answer_invitation, 2),
            (self.leave_message, 1),
            (self.take_message, 1),
            (self.tick, 3),
        ]

    def new_id(self) -> uuid.UUID:
        return next(self._ids)

    def run(self, steps: int) -> list[Event]:
        for _ in range(steps):
            self.step()
        return self.events

    def step(self) -> list[Event]:
        """One random thing happens; returns the events the projector consumes for it."""
        actions, weights = zip(*self._actions, strict=True)
        before = len(self.events)
        self.random.choices(actions, weights)[0]()
        return self.events[before:]

    def send(self, message: Message) -> None:
        """The message through the queue manager; a consumed event counts once, before its
        consequences (the queue manager returns a kept fact such as ChatEnded in its list)."""
        decided = decide(self.site, message, self.now, self.policy, self.new_id)
        if isinstance(message, Event) and all(e.event_id != message.event_id for e in decided):
            self.events.append(message)
        for event in decided:
            if isinstance(event, ChatStarted):
                self.started[event.session_id] = event
            elif isinstance(event, ChatEnded):
                self.started.pop(event.session_id, None)
                self.held.discard(event.session_id)
        self.events.extend(decided)

    def _fact(self, event: Event) -> None:
        """A session-service or offline-messages event: the queue manager does not consume it."""
        self.events.append(event)

    # --- what can happen --------------------------------------------------------------------

    def tick(self) -> None:
        self.now += timedelta(seconds=self.random.randint(0, 30))

    def arrive(self) -> None:
        self.now += timedelta(seconds=self.random.choice([0, 1, 2]))
        visitor = self.random.choice(VISITORS)
        channel = self.random.choice([Channel.CHAT, Channel.CHAT, Channel.CALL])
        self.send(
            VisitorWaiting(
                event_id=self.new_id(),
                site_id=SITE,
                visitor_id=visitor,
                channel=channel,
                occurred_at=self.now,
            )
        )

    def leave(self) -> None:
        visitor = self.random.choice(VISITORS)
        self.send(
            VisitorLeftQueue(
                event_id=self.new_id(), site_id=SITE, visitor_id=visitor, occurred_at=self.now
            )
        )

    def presence(self) -> None:
        operator = self.random.choice(OPERATORS)
        presence = self.random.choice([Presence.ONLINE, Presence.ONLINE, *Presence])
        self.send(SetOperatorPresence(site_id=SITE, operator_id=operator, presence=presence))

    def capacity(self) -> None:
        operator = self.random.choice(OPERATORS)
        maximum = self.random.choice([None, 1, 2, 3, 4])
        self.send(SetOperatorCapacity(site_id=SITE, operator_id=operator, max_chats=maximum))

    def site_max(self) -> None:
        self.send(SetSiteMaxChats(site_id=SITE, max_chats=self.random.choice([1, 2, 3])))

    def announce(self) -> None:
        self.send(AnnounceSiteSettings(site_id=SITE))

    def answer(self) -> None:
        if not self.site.offers:
            return
        offer = self.site.offers[self.random.choice(sorted(self.site.offers))]
        ids = {"site_id": SITE, "offer_id": offer.offer_id}
        match self.random.choice(["accept", "accept", "decline", "put_back", "expire"]):
            case "accept":
                self.send(AcceptOffer(operator_id=offer.operator_id, **ids))
            case "decline":
                self.send(DeclineOffer(operator_id=offer.operator_id, **ids))
            case "put_back":
                self.send(PutBackInQueue(operator_id=offer.operator_id, **ids))
            case _:
                self.send(ExpireOffer(**ids))

    def next_chat(self) -> None:
        operator = self.random.choice(OPERATORS)
        channel = self.random.choice(list(Channel))
        self.send(RequestNextChat(site_id=SITE, operator_id=operator, channel=channel))

    def pick(self) -> None:
        waiting = [v.visitor_id for ch in Channel for v in self.site.waiting(ch)]
        if not waiting:
            return
        self.send(
            PickVisitor(
                site_id=SITE,
                operator_id=self.random.choice(OPERATORS),
                visitor_id=self.random.choice(waiting),
                channel=self.random.choice([None, *Channel]),
            )
        )

    def invite(self) -> None:
        self.send(
            InviteVisitor(
                site_id=SITE,
                operator_id=self.random.choice(OPERATORS),
                visitor_id=self.random.choice(VISITORS),
                channel=self.random.choice([Channel.CHAT, Channel.CHAT, Channel.CALL]),
            )
        )

    def answer_invitation(self) -> None:
        if not self.site.invitations:
            return
        invitation = self.site.invitations[self.random.choice(sorted(self.site.invitations))]
        match self.random.choice(["accept", "decline", "expire"]):
            case "expire":
                self.send(ExpireInvitation(site_id=SITE, invitation_id=invitation.invitation_id))
            case answer:
                self.send(
                    AnswerInvitation(
                        site_id=SITE,
                        invitation_id=invitation.invitation_id,
                        visitor_id=invitation.visitor_id,
                        accept=answer == "accept",
                    )
                )

    def hold_or_resume(self) -> None:
        if not self.started:
            return
        chat = self.started[self.random.choice(sorted(self.started))]
        kind = ChatResumed if chat.session_id in self.held else ChatHeld
        self.held ^= {chat.session_id}
        self._fact(
            kind(
                event_id=self.new_id(),
                site_id=SITE,
                session_id=chat.session_id,
                visitor_id=chat.visitor_id,
                operator_id=chat.operator_id,
                occurred_at=self.now,
            )
        )

    def end(self) -> None:
        if not self.started:
            return
        chat = self.started[self.random.choice(sorted(self.started))]
        self.send(
            ChatEnded(
                event_id=self.new_id(),
                site_id=SITE,
                session_id=chat.session_id,
                visitor_id=chat.visitor_id,
                operator_id=chat.operator_id,
                channel=chat.channel,
                ended_by=self.random.choice(["operator", "visitor"]),
                occurred_at=self.now,
            )
        )

    def leave_message(self) -> None:
        message_id = self.new_id()
        self.messages[message_id] = self.now
        self._fact(
            MessageLeft(
                event_id=self.new_id(),
                site_id=SITE,
                offline_message_id=message_id,
                visitor_id=self.random.choice(VISITORS),
                name="Ada",
                email="ada@example.com",
                text="Please call me back.",
                occurred_at=self.now,
            )
        )

    def take_message(self) -> None:
        """Next message takes the oldest waiting one; a taken one is sometimes closed."""
        if self.taken and self.random.random() < 0.5:
            taken = self.taken.pop(self.random.randrange(len(self.taken)))
            self._fact(
                OfflineMessageClosed(
                    event_id=self.new_id(),
                    site_id=SITE,
                    offline_message_id=taken.offline_message_id,
                    operator_id=taken.operator_id,
                    occurred_at=self.now,
                )
            )
            return
        if not self.messages:
            return
        message_id = min(self.messages, key=lambda m: (self.messages[m], m))
        left_at = self.messages.pop(message_id)
        taken = OfflineMessageTaken(
            event_id=self.new_id(),
            site_id=SITE,
            offline_message_id=message_id,
            operator_id=self.random.choice(OPERATORS),
            visitor_id="v0",
            name="Ada",
            email="ada@example.com",
            text="Please call me back.",
            left_at=left_at,
            occurred_at=self.now,
        )
        self.taken.append(taken)
        self._fact(taken)
