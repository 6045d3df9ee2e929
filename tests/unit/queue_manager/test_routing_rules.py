"""The routing rules, one behaviour per test, on the pure domain."""

from __future__ import annotations

from datetime import timedelta

import pytest
from livechat_shared.contracts import (
    Channel,
    ChatOffered,
    ChatStarted,
    CommandRejected,
    Event,
    OperatorFreed,
    OperatorPresenceChanged,
    Presence,
    QueuePositionsChanged,
    VisitorAbandoned,
    VisitorInvited,
    VisitorRequeued,
)
from queue_manager.domain import RoutingPolicy

from tests.unit.queue_manager.desk import Desk, offers, types


def test_a_visitor_goes_to_the_least_loaded_operator_ties_to_the_one_idle_longest() -> None:
    desk = Desk(RoutingPolicy(max_chats=2))
    desk.online("ann", "bob")
    got = [offers(desk.arrive(f"v{i}")) for i in range(6)]
    assert got == [[("v0", "ann")], [("v1", "bob")], [("v2", "ann")], [("v3", "bob")], [], []]
    assert [v.visitor_id for v in desk.site.waiting(Channel.CHAT)] == ["v4", "v5"]


def test_the_longest_waiting_visitor_goes_to_the_operator_whose_chat_ended() -> None:
    desk = Desk(RoutingPolicy(max_chats=1))
    desk.online("ann")
    chat = desk.start_chat("v0")
    desk.arrive("v1")
    desk.arrive("v2")
    events = desk.end(chat)
    assert types(events) == ["ChatEnded", "OperatorFreed", "ChatOffered"]
    assert offers(events) == [("v1", "ann")]


def test_an_operator_coming_online_gets_the_longest_waiting_visitors_up_to_capacity() -> None:
    desk = Desk(RoutingPolicy(max_chats=2))
    for v in ("v0", "v1", "v2"):
        desk.arrive(v)
    assert offers(desk.online("ann")) == [("v0", "ann"), ("v1", "ann")]


def test_held_chats_and_pending_offers_count_against_capacity() -> None:
    desk = Desk(RoutingPolicy(max_chats=3))
    desk.online("ann")
    for v in ("v0", "v1"):
        desk.start_chat(v)  # the session service may hold these; capacity does not change
    assert offers(desk.arrive("v2")) == [("v2", "ann")]  # pending offer: third slot
    assert offers(desk.arrive("v3")) == []


def test_an_operator_may_have_its_own_maximum() -> None:
    desk = Desk(RoutingPolicy(max_chats=1))
    desk.online("ann")
    desk.capacity("ann", 2)
    assert offers(desk.arrive("v0")) == [("v0", "ann")]
    assert offers(desk.arrive("v1")) == [("v1", "ann")]
    assert offers(desk.arrive("v2")) == []


def test_raising_an_operators_maximum_fills_the_new_room_at_once() -> None:
    desk = Desk(RoutingPolicy(max_chats=1))
    desk.online("ann")
    desk.arrive("v0")
    desk.arrive("v1")
    assert offers(desk.capacity("ann", 2)) == [("v1", "ann")]


def test_calls_have_their_own_capacity_of_one() -> None:
    desk = Desk(RoutingPolicy(max_chats=3))
    desk.online("ann")
    assert offers(desk.arrive("c0", Channel.CALL)) == [("c0", "ann")]
    assert offers(desk.arrive("c1", Channel.CALL)) == []
    assert offers(desk.arrive("v0", Channel.CHAT)) == [("v0", "ann")]


def test_accepting_starts_the_chat_and_reports_the_wait() -> None:
    desk = Desk()
    desk.online("ann")
    offer = next(e for e in desk.arrive("v0") if isinstance(e, ChatOffered))
    desk.tick(4)
    started = desk.accept(offer)
    assert types(started) == ["ChatStarted"]
    assert isinstance(started[0], ChatStarted)
    assert started[0].session_id == offer.offer_id
    assert started[0].waited_seconds == pytest.approx(4.0)


def test_a_declined_visitor_keeps_its_place_and_is_not_offered_to_the_decliner_again() -> None:
    desk = Desk(RoutingPolicy(max_chats=1))
    desk.online("ann")
    desk.arrive("v0")
    desk.arrive("v1")
    events = desk.decline(desk.offer_to("ann"))
    assert types(events)[:2] == ["OfferDeclined", "VisitorRequeued"]
    assert offers(events) == [("v1", "ann")]  # ann's room goes to the next she may take
    assert [v.visitor_id for v in desk.site.waiting(Channel.CHAT)] == ["v0"]
    # bob comes online: v0 still heads the queue with its original waiting time
    assert offers(desk.online("bob")) == [("v0", "bob")]


def test_a_declined_visitor_is_offered_to_another_free_operator_at_once() -> None:
    desk = Desk(RoutingPolicy(max_chats=1))
    desk.online("ann")
    desk.arrive("v0")
    desk.online("bob")  # bob is free, nobody waits for him
    assert offers(desk.decline(desk.offer_to("ann"))) == [("v0", "bob")]


def test_put_back_pauses_automatic_offers_until_the_operator_asks_for_the_next() -> None:
    desk = Desk(RoutingPolicy(max_chats=2))
    desk.online("ann")
    desk.arrive("v0")
    events = desk.put_back(desk.offer_to("ann"))
    assert types(events) == ["OfferPutBack", "VisitorRequeued"]
    assert offers(desk.arrive("v1")) == []  # paused: no automatic offer
    assert offers(desk.next_chat("ann")) == [("v1", "ann")]  # v0 was put back by ann
    assert offers(desk.arrive("v2")) == [("v2", "ann")]  # automatic offers resumed


def test_next_with_nobody_waiting_answers_clearly() -> None:
    desk = Desk()
    desk.online("ann")
    events = desk.next_chat("ann")
    rejected = [e for e in events if isinstance(e, CommandRejected)]
    assert rejected and "nobody is waiting" in rejected[0].reason


def test_an_unanswered_offer_times_out_goes_back_and_the_operator_becomes_away() -> None:
    desk = Desk(RoutingPolicy(max_chats=1, offer_timeout=timedelta(seconds=30)))
    desk.online("ann", "bob")
    desk.arrive("v0")  # ann: online first, idle longest
    desk.arrive("v1")  # bob
    desk.arrive("v2")  # waits
    offer = desk.offer_to("ann")
    assert offer.expires_at == desk.now - timedelta(seconds=2) + timedelta(seconds=30)
    events = desk.expire(offer)
    assert types(events)[:3] == ["OfferTimedOut", "VisitorRequeued", "OperatorPresenceChanged"]
    assert desk.site.operators["ann"].presence is Presence.AWAY
    assert [v.visitor_id for v in desk.site.waiting(Channel.CHAT)] == ["v0", "v2"]


def test_an_offer_answered_in_time_does_not_expire() -> None:
    desk = Desk()
    desk.online("ann")
    offer = next(e for e in desk.arrive("v0") if isinstance(e, ChatOffered))
    desk.accept(offer)
    assert desk.expire(offer) == []


def test_going_offline_returns_pending_offers_to_the_queue() -> None:
    desk = Desk(RoutingPolicy(max_chats=2))
    desk.online("ann")
    desk.arrive("v0")
    events = desk.presence("ann", Presence.OFFLINE)
    assert "OfferWithdrawn" in types(events)
    requeued = [e for e in events if isinstance(e, VisitorRequeued)]
    assert [(e.visitor_id, e.reason) for e in requeued] == [("v0", "operator_offline")]
    assert offers(desk.online("bob")) == [("v0", "bob")]


def test_an_away_operator_gets_no_new_offers() -> None:
    desk = Desk()
    desk.online("ann")
    desk.presence("ann", Presence.AWAY)
    assert offers(desk.arrive("v0")) == []
    assert offers(desk.presence("ann", Presence.ONLINE)) == [("v0", "ann")]


def test_a_visitor_who_leaves_is_removed_and_counted_as_abandoned() -> None:
    desk = Desk()
    desk.arrive("v0")
    desk.tick(7)
    events = desk.leave("v0")
    abandoned = [e for e in events if isinstance(e, VisitorAbandoned)]
    assert abandoned and abandoned[0].waited_seconds == pytest.approx(7.0)
    assert desk.site.waiting(Channel.CHAT) == []


def test_an_offered_visitor_who_leaves_frees_the_operator_for_the_next() -> None:
    desk = Desk(RoutingPolicy(max_chats=1))
    desk.online("ann")
    desk.arrive("v0")
    desk.arrive("v1")
    events = desk.leave("v0")
    assert types(events)[:2] == ["OfferWithdrawn", "VisitorAbandoned"]
    assert offers(events) == [("v1", "ann")]


def test_asking_twice_to_wait_changes_nothing() -> None:
    desk = Desk()
    desk.arrive("v0")
    assert desk.arrive("v0") == []


def test_an_operator_cannot_answer_another_operators_offer() -> None:
    desk = Desk()
    desk.online("ann", "bob")
    offer = next(e for e in desk.arrive("v0") if isinstance(e, ChatOffered))
    stolen = offer.model_copy(update={"operator_id": "bob"})
    events = desk.accept(stolen)
    assert types(events) == ["CommandRejected"]
    assert desk.site.offers[offer.offer_id].operator_id == offer.operator_id


def test_a_chat_end_reports_the_operator_freed() -> None:
    desk = Desk(RoutingPolicy(max_chats=3))
    desk.online("ann")
    chat = desk.start_chat("v0")
    freed = [e for e in desk.end(chat) if isinstance(e, OperatorFreed)]
    assert [(e.operator_id, e.free_slots) for e in freed] == [("ann", 3)]


def test_an_unknown_chat_end_changes_nothing() -> None:
    desk = Desk()
    desk.online("ann")
    chat = desk.start_chat("v0")
    desk.end(chat)
    assert desk.end(chat) == []


def test_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        RoutingPolicy(max_chats=0)
    with pytest.raises(ValueError):
        RoutingPolicy(offer_timeout=timedelta(0))


def test_presence_events_name_why() -> None:
    desk = Desk()
    events = desk.online("ann")
    assert isinstance(events[0], OperatorPresenceChanged)
    assert events[0].reason == "operator"


def test_an_operator_may_pick_a_waiting_visitor_for_a_voice_chat() -> None:
    desk = Desk(RoutingPolicy(max_chats=1))
    desk.online("ann")
    desk.start_chat("v0")  # ann is full for chats
    desk.arrive("v1")
    events = desk.pick("ann", "v1", Channel.CALL)
    assert types(events) == ["ChatStarted"]
    started = events[0]
    assert (
        isinstance(started, ChatStarted)
        and started.origin == "pick"
        and started.channel is Channel.CALL
    )
    assert desk.site.waiting(Channel.CHAT) == []


def test_a_visitor_already_offered_cannot_be_picked() -> None:
    desk = Desk()
    desk.online("ann", "bob")
    desk.arrive("v0")  # offered to ann at once
    events = desk.pick("bob", "v0")
    assert types(events) == ["CommandRejected"]
    assert isinstance(events[0], CommandRejected) and "offered" in events[0].reason


def test_a_pick_beyond_capacity_is_rejected() -> None:
    desk = Desk(RoutingPolicy(max_chats=1))
    desk.online("ann")
    desk.start_chat("v0")
    desk.arrive("v1")
    assert types(desk.pick("ann", "v1")) == ["CommandRejected"]


def positions(events: list[Event]) -> list[QueuePositionsChanged]:
    return [e for e in events if isinstance(e, QueuePositionsChanged)]


def test_waiting_visitors_learn_their_place_as_the_queue_moves() -> None:
    desk = Desk(RoutingPolicy(max_chats=1))
    desk.online("ann")
    chat = desk.start_chat("v0")
    for v in ("v1", "v2", "v3", "v4"):
        [update] = positions(desk.arrive(v))
    assert update.waiting == ["v1", "v2", "v3", "v4"] and update.total_waiting == 4
    [update] = positions(desk.leave("v2"))
    assert update.waiting == ["v1", "v3", "v4"]
    desk.tick(30)
    [update] = positions(desk.end(chat))  # v1 is offered to ann
    assert update.waiting == ["v3", "v4"]
    assert update.seconds_per_position is not None and update.seconds_per_position > 0


def test_no_position_update_when_the_head_of_the_queue_did_not_move() -> None:
    desk = Desk()
    desk.online("ann")
    desk.presence("ann", Presence.AWAY)
    desk.arrive("v0")
    assert positions(desk.capacity("ann", 5)) == []


def invited(events: list[Event]) -> VisitorInvited:
    [found] = [e for e in events if isinstance(e, VisitorInvited)]
    return found


def test_an_invited_visitor_who_accepts_chats_with_that_operator_without_queueing() -> None:
    desk = Desk()
    desk.online("ann")
    invitation = invited(desk.invite("ann", "browser"))
    events = desk.answer_invitation(invitation, accept=True)
    assert types(events) == ["ChatStarted"]
    started = events[0]
    assert isinstance(started, ChatStarted)
    assert (started.operator_id, started.origin) == ("ann", "invitation")
    assert started.session_id == invitation.invitation_id


def test_an_invitation_holds_a_slot_until_declined_then_the_queue_moves_in() -> None:
    desk = Desk(RoutingPolicy(max_chats=1))
    desk.online("ann")
    invitation = invited(desk.invite("ann", "browser"))
    assert offers(desk.arrive("v0")) == []  # ann's only slot is held by the invitation
    events = desk.answer_invitation(invitation, accept=False)
    assert types(events)[0] == "InvitationDeclined"
    assert offers(events) == [("v0", "ann")]


def test_an_unanswered_invitation_expires_and_frees_the_slot() -> None:
    desk = Desk(RoutingPolicy(max_chats=1))
    desk.online("ann")
    invitation = invited(desk.invite("ann", "browser"))
    desk.arrive("v0")
    events = desk.expire_invitation(invitation)
    assert types(events)[0] == "InvitationExpired"
    assert offers(events) == [("v0", "ann")]
    assert types(desk.answer_invitation(invitation, accept=True)) == ["CommandRejected"]


def test_inviting_beyond_capacity_or_a_queued_visitor_is_refused() -> None:
    desk = Desk(RoutingPolicy(max_chats=1))
    desk.online("ann")
    desk.presence("ann", Presence.AWAY)
    desk.arrive("v0")
    assert "pick it instead" in str(desk.invite("ann", "v0")[0])
    desk.invite("ann", "b1")
    assert "capacity" in str(desk.invite("ann", "b2")[0])


def test_an_operator_on_a_call_gets_no_chats_when_calls_block_chats() -> None:
    desk = Desk(RoutingPolicy(max_chats=3, calls_block_chats=True))
    desk.online("ann")
    call = desk.start_chat("c0", Channel.CALL)
    assert offers(desk.arrive("v0")) == []
    assert offers(desk.end(call)) == [("v0", "ann")]
