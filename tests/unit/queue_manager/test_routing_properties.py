"""Stateful property test: random sequences of everything that can happen to the routing state.

A reference model, built only from the emitted events, checks after every step that:
- no operator ever gets an offer beyond its capacity (held chats and offers count);
- no visitor is ever offered or assigned to two operators at once;
- every offer goes to the longest-waiting visitor that operator may take;
- no visitor is lost: each one is waiting, offered, chatting, or has left — in the model and in
  the domain's own state alike.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from livechat_shared.contracts import (
    AcceptOffer,
    Channel,
    ChatEnded,
    ChatHeld,
    ChatOffered,
    ChatResumed,
    ChatStarted,
    DeclineOffer,
    Event,
    InvitationDeclined,
    InvitationExpired,
    OfferDeclined,
    OfferPutBack,
    OfferTimedOut,
    OfferWithdrawn,
    Presence,
    QueuePositionsChanged,
    VisitorAbandoned,
    VisitorInvited,
    VisitorQueued,
    VisitorRequeued,
)
from queue_manager.domain import RoutingPolicy

from tests.unit.queue_manager.desk import SITE, Desk

VISITORS = [f"v{i}" for i in range(10)]
OPERATORS = ["ann", "bob", "cid"]
POLICY = RoutingPolicy(max_chats=2, max_calls=1)
# (calls_block_chats is covered by a rule test; the machine checks the default combination)


@dataclass
class Waiting:
    since: datetime
    arrival: int
    channel: Channel
    declined_by: set[str] = field(default_factory=set)


@dataclass
class Model:
    waiting: dict[str, Waiting] = field(default_factory=dict)
    offered: dict[str, tuple[str, uuid.UUID, Waiting]] = field(default_factory=dict)
    chatting: dict[str, ChatStarted] = field(default_factory=dict)
    invited: dict[str, VisitorInvited] = field(default_factory=dict)
    max_chats: dict[str, int | None] = field(default_factory=dict)
    arrivals: int = 0

    def load(self, operator: str, channel: Channel) -> int:
        offers = sum(
            1 for o, _, w in self.offered.values() if o == operator and w.channel is channel
        )
        chats = sum(
            1 for c in self.chatting.values() if c.operator_id == operator and c.channel is channel
        )
        invitations = sum(
            1 for i in self.invited.values() if i.operator_id == operator and i.channel is channel
        )
        return offers + chats + invitations

    def capacity(self, operator: str, channel: Channel) -> int:
        return POLICY.capacity(channel, self.max_chats.get(operator))

    def see(self, event: Event) -> None:
        match event:
            case VisitorQueued():
                assert event.visitor_id not in self.waiting | self.offered | self.chatting
                assert event.visitor_id not in self.invited, "an invitation ends before queueing"
                self.waiting[event.visitor_id] = Waiting(
                    event.waiting_since, self.arrivals, event.channel
                )
                self.arrivals += 1
            case ChatOffered():
                self._check_offer(event)
                self.offered[event.visitor_id] = (
                    event.operator_id,
                    event.offer_id,
                    self.waiting.pop(event.visitor_id),
                )
            case OfferDeclined() | OfferPutBack():
                _, _, w = self.offered[event.visitor_id]
                w.declined_by.add(event.operator_id)
            case OfferTimedOut() | OfferWithdrawn():
                assert event.visitor_id in self.offered
            case VisitorRequeued():
                _, _, w = self.offered.pop(event.visitor_id)
                assert w.since == event.waiting_since, "a requeued visitor keeps its waiting time"
                self.waiting[event.visitor_id] = w
            case VisitorAbandoned():
                self.waiting.pop(event.visitor_id, None)
                self.offered.pop(event.visitor_id, None)
            case VisitorInvited():
                v = event.visitor_id
                assert v not in self.waiting and v not in self.offered and v not in self.chatting
                assert v not in self.invited
                load = self.load(event.operator_id, event.channel)
                assert load < self.capacity(event.operator_id, event.channel)
                self.invited[v] = event
            case InvitationDeclined() | InvitationExpired():
                del self.invited[event.visitor_id]
            case ChatStarted() if event.origin == "invitation":
                invitation = self.invited.pop(event.visitor_id)
                assert invitation.invitation_id == event.session_id
                assert event.visitor_id not in self.waiting | self.offered | self.chatting
                self.chatting[event.visitor_id] = event
            case ChatStarted() if event.origin == "pick":
                assert event.visitor_id in self.waiting, (
                    "only a waiting, unoffered visitor is picked"
                )
                load = self.load(event.operator_id, event.channel)
                assert load < self.capacity(event.operator_id, event.channel)
                del self.waiting[event.visitor_id]
                self.chatting[event.visitor_id] = event
            case ChatStarted():
                operator, offer_id, _ = self.offered.pop(event.visitor_id)
                assert (operator, offer_id) == (event.operator_id, event.session_id)
                self.chatting[event.visitor_id] = event
            case ChatEnded():
                del self.chatting[event.visitor_id]
            case QueuePositionsChanged():
                order = sorted(
                    (w.since, w.arrival, v)
                    for v, w in self.waiting.items()
                    if w.channel is event.channel
                )
                assert event.waiting == [v for _, _, v in order][:100]
                assert event.total_waiting == len(order)
            case _:
                pass

    def _check_offer(self, offer: ChatOffered) -> None:
        v = offer.visitor_id
        assert v in self.waiting, f"{v} offered while not waiting (offered twice or chatting?)"
        assert v not in self.offered and v not in self.chatting
        channel = self.waiting[v].channel
        assert self.load(offer.operator_id, channel) < self.capacity(offer.operator_id, channel)
        mine = self.waiting[v]
        for other, w in self.waiting.items():
            if other == v or w.channel is not channel or offer.operator_id in w.declined_by:
                continue
            assert (w.since, w.arrival) > (mine.since, mine.arrival), (
                f"{v} offered to {offer.operator_id} while {other} waited longer"
            )
        assert offer.operator_id not in mine.declined_by


class RoutingMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.desk = Desk(POLICY)
        self.model = Model()
        self.held: set[str] = set()
        self.lowered: set[str] = set()

    def _send(self, events: list[Event]) -> None:
        for event in events:
            self.model.see(event)

    @rule(visitor=st.sampled_from(VISITORS), channel=st.sampled_from(list(Channel)))
    def visitor_arrives(self, visitor: str, channel: Channel) -> None:
        self._send(self.desk.arrive(visitor, channel))

    @rule(visitor=st.sampled_from(VISITORS))
    def visitor_leaves(self, visitor: str) -> None:
        self._send(self.desk.leave(visitor))

    @rule(operator=st.sampled_from(OPERATORS), presence=st.sampled_from(list(Presence)))
    def presence_changes(self, operator: str, presence: Presence) -> None:
        self._send(self.desk.presence(operator, presence))

    @rule(operator=st.sampled_from(OPERATORS), max_chats=st.one_of(st.none(), st.integers(1, 4)))
    def capacity_changes(self, operator: str, max_chats: int | None) -> None:
        before = self.model.capacity(operator, Channel.CHAT)
        self.model.max_chats[operator] = max_chats
        if self.model.capacity(operator, Channel.CHAT) < before:
            self.lowered.add(operator)  # chats already running may exceed the new maximum
        self._send(self.desk.capacity(operator, max_chats))

    @precondition(lambda self: self.desk.site.offers)
    @rule(data=st.data(), answer=st.sampled_from(["accept", "decline", "put_back", "expire"]))
    def operator_answers(self, data: st.DataObject, answer: str) -> None:
        offer_id = data.draw(st.sampled_from(sorted(self.desk.site.offers)))
        offer = next(
            e for e in self.desk.history if isinstance(e, ChatOffered) and e.offer_id == offer_id
        )
        self._send(getattr(self.desk, answer)(offer))

    @rule(data=st.data())
    def stale_or_foreign_answers_are_rejected(self, data: st.DataObject) -> None:
        past = [e for e in self.desk.history if isinstance(e, ChatOffered)]
        if not past:
            return
        offer = data.draw(st.sampled_from(past))
        operator = data.draw(st.sampled_from(OPERATORS))
        command = data.draw(st.sampled_from([AcceptOffer, DeclineOffer]))
        pending = self.desk.site.offers.get(offer.offer_id)
        if pending is not None and pending.operator_id == operator:
            return  # a legitimate answer: covered by operator_answers
        events = self.desk.send(
            command(site_id=SITE, offer_id=offer.offer_id, operator_id=operator)
        )
        assert [e.type_name() for e in events] == ["CommandRejected"]

    @rule(operator=st.sampled_from(OPERATORS), channel=st.sampled_from(list(Channel)))
    def operator_asks_for_next(self, operator: str, channel: Channel) -> None:
        self._send(self.desk.next_chat(operator, channel))

    @precondition(lambda self: self.model.chatting)
    @rule(data=st.data())
    def chat_is_held_or_resumed(self, data: st.DataObject) -> None:
        visitor = data.draw(st.sampled_from(sorted(self.model.chatting)))
        chat = self.model.chatting[visitor]
        kind = ChatResumed if visitor in self.held else ChatHeld
        self.held ^= {visitor}
        # the queue manager does not consume these; sending them anyway must change nothing
        self._send(
            self.desk.send(
                kind(
                    site_id=SITE,
                    session_id=chat.session_id,
                    visitor_id=visitor,
                    operator_id=chat.operator_id,
                )
            )
        )

    @precondition(lambda self: self.model.chatting)
    @rule(data=st.data())
    def chat_ends(self, data: st.DataObject) -> None:
        visitor = data.draw(st.sampled_from(sorted(self.model.chatting)))
        self.held.discard(visitor)
        self._send(self.desk.end(self.model.chatting[visitor]))

    @rule(
        operator=st.sampled_from(OPERATORS),
        visitor=st.sampled_from(VISITORS),
        channel=st.one_of(st.none(), st.sampled_from(list(Channel))),
    )
    def operator_picks_a_visitor(
        self, operator: str, visitor: str, channel: Channel | None
    ) -> None:
        self._send(self.desk.pick(operator, visitor, channel))

    @rule(operator=st.sampled_from(OPERATORS), visitor=st.sampled_from(VISITORS))
    def operator_invites_a_visitor(self, operator: str, visitor: str) -> None:
        self._send(self.desk.invite(operator, visitor))

    @precondition(lambda self: self.model.invited)
    @rule(data=st.data(), answer=st.sampled_from(["accept", "decline", "expire"]))
    def visitor_answers_an_invitation(self, data: st.DataObject, answer: str) -> None:
        visitor = data.draw(st.sampled_from(sorted(self.model.invited)))
        invitation = self.model.invited[visitor]
        if answer == "expire":
            self._send(self.desk.expire_invitation(invitation))
        else:
            self._send(self.desk.answer_invitation(invitation, accept=answer == "accept"))

    @rule(seconds=st.integers(0, 60))
    def time_passes(self, seconds: int) -> None:
        self.desk.tick(seconds)

    @invariant()
    def no_visitor_is_lost_and_model_and_state_agree(self) -> None:
        site = self.desk.site
        waiting = {v.visitor_id for ch in Channel for v in site.waiting(ch)}
        assert waiting == set(self.model.waiting)
        offered = {o.visitor_id: o.operator_id for o in site.offers.values()}
        assert offered == {v: o for v, (o, _, _) in self.model.offered.items()}
        chatting = {c.visitor_id: c.operator_id for c in site.chats.values()}
        assert chatting == {v: c.operator_id for v, c in self.model.chatting.items()}
        invited = {i.visitor_id: i.operator_id for i in site.invitations.values()}
        assert invited == {v: i.operator_id for v, i in self.model.invited.items()}
        assert not (waiting & set(offered)) and not (waiting & set(chatting))

    @invariant()
    def no_operator_beyond_capacity_unless_it_was_lowered(self) -> None:
        for operator in self.desk.site.operators.values():
            for channel in Channel:
                if channel is Channel.CHAT and operator.operator_id in self.lowered:
                    continue
                assert operator.load(channel) <= self.model.capacity(operator.operator_id, channel)

    @invariant()
    def free_operators_have_nobody_waiting_for_them(self) -> None:
        """Offers are pushed at once: nobody waits while an operator who may take them is free."""
        for operator in self.desk.site.operators.values():
            if operator.presence is not Presence.ONLINE or not operator.auto_offers:
                continue
            for channel in Channel:
                if operator.load(channel) < self.model.capacity(operator.operator_id, channel):
                    assert all(
                        operator.operator_id in self.model.waiting[v.visitor_id].declined_by
                        for v in self.desk.site.waiting(channel)
                    )


RoutingMachine.TestCase.settings = settings(
    max_examples=2000,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestRouting = RoutingMachine.TestCase
