"""The projection rules, event by event: what each fact does to the Communication Summary."""

from __future__ import annotations

from livechat_shared.contracts import (
    Channel,
    ChatHeld,
    ChatMessagePosted,
    ChatOffered,
    ChatResumed,
    OfferDeclined,
    OfflineMessageTaken,
    OperatorPresenceChanged,
    Presence,
    VisitorAbandoned,
    VisitorInvited,
    VisitorRequeued,
    VisitorWaiting,
)
from summary_projector.adapters.documents import decode_state, encode_state
from summary_projector.domain import (
    InProgress,
    Operators,
    PendingOffer,
    Queue,
    SummaryState,
    apply,
    summarize,
    summarize_operator,
)

from tests.unit.summary_projector.events import (
    SITE,
    at,
    ended,
    fold,
    ids,
    message_left,
    offered,
    online,
    queued,
    session_event,
    slots,
    started,
)

MAX = 3
ID = ids("o1", "o2", "o3", "i1", "m1", "m2")


def test_a_started_chat_is_active_then_on_hold_until_resumed_and_gone_when_ended() -> None:
    chat = started(ID["o1"], "v1", "ann")
    state = fold(online("ann"), chat)
    assert summarize(state).in_progress == InProgress(active=1, on_hold=0)
    state = fold(session_event(ChatHeld, chat), state=state)
    assert summarize(state).in_progress == InProgress(active=0, on_hold=1)
    assert summarize_operator(state, "ann").in_progress == InProgress(active=0, on_hold=1)
    state = fold(session_event(ChatResumed, chat), state=state)
    assert summarize(state).in_progress == InProgress(active=1, on_hold=0)
    state = fold(ended(chat), state=state)
    assert summarize(state).in_progress == InProgress()


def test_visitors_wait_per_channel_and_the_oldest_waiting_time_is_reported() -> None:
    state = fold(queued("v1", 10), queued("v2", 5), queued("v3", 7, Channel.CALL))
    queues = summarize(state).queues
    assert queues.chats == Queue(waiting=2, longest_waiting_since=at(5))
    assert queues.calls == Queue(waiting=1, longest_waiting_since=at(7))


def test_an_offered_visitor_is_reserved_and_a_requeued_one_keeps_its_waiting_time() -> None:
    state = fold(online("ann"), queued("v1", 0), queued("v2", 5), offered(ID["o1"], "v1", "ann"))
    assert summarize(state).queues.chats == Queue(waiting=1, longest_waiting_since=at(5))
    state = fold(
        OfferDeclined(site_id=SITE, offer_id=ID["o1"], visitor_id="v1", operator_id="ann"),
        VisitorRequeued(
            site_id=SITE,
            visitor_id="v1",
            channel=Channel.CHAT,
            waiting_since=at(0),
            reason="declined",
        ),
        state=state,
    )
    assert summarize(state).queues.chats == Queue(waiting=2, longest_waiting_since=at(0))
    assert summarize_operator(state, "ann").pending_offers == 0


def test_an_operators_summary_lists_its_pending_offers_to_show_after_a_reconnect() -> None:
    later = ChatOffered(
        site_id=SITE,
        offer_id=ID["o2"],
        visitor_id="v2",
        operator_id="ann",
        channel=Channel.CALL,
        waiting_since=at(5),
        expires_at=at(60),
    )
    bobs = offered(ID["o3"], "v3", "bob")
    invitation = VisitorInvited(
        site_id=SITE,
        invitation_id=ID["i1"],
        visitor_id="v4",
        operator_id="ann",
        channel=Channel.CHAT,
        expires_at=at(20),
    )
    state = fold(online("ann"), later, offered(ID["o1"], "v1", "ann"), bobs, invitation)
    mine = summarize_operator(state, "ann")
    assert mine.offers == (
        PendingOffer(ID["o1"], "v1", Channel.CHAT, waiting_since=at(0), expires_at=at(30)),
        PendingOffer(ID["o2"], "v2", Channel.CALL, waiting_since=at(5), expires_at=at(60)),
    )  # soonest to expire first; bob's offer and ann's invitation are not hers to answer
    assert (mine.pending_offers, mine.pending_invitations) == (2, 1)
    assert decode_state(SITE, encode_state(state)) == state
    state = fold(
        OfferDeclined(site_id=SITE, offer_id=ID["o1"], visitor_id="v1", operator_id="ann"),
        state=state,
    )
    assert [o.offer_id for o in summarize_operator(state, "ann").offers] == [ID["o2"]]


def test_an_offer_stored_before_offers_kept_their_times_is_counted_but_not_listed() -> None:
    older = encode_state(fold(online("ann"), offered(ID["o1"], "v1", "ann")))
    for offer in older["offers"]:
        del offer["waiting_since"], offer["expires_at"]
    mine = summarize_operator(decode_state(SITE, older), "ann")
    assert (mine.pending_offers, mine.offers) == (1, ())


def test_an_abandoned_visitor_leaves_the_queue() -> None:
    state = fold(
        queued("v1", 0),
        VisitorAbandoned(site_id=SITE, visitor_id="v1", channel=Channel.CHAT, waited_seconds=3),
    )
    assert summarize(state).queues.chats == Queue()


def test_a_visitor_picked_straight_from_the_queue_leaves_it_without_an_offer() -> None:
    state = fold(online("ann"), queued("v1", 0), started(ID["o2"], "v1", "ann", Channel.CALL))
    summary = summarize(state)
    assert summary.queues.chats == Queue()
    assert summary.in_progress == InProgress(active=1)


def test_messages_wait_until_taken_and_the_oldest_is_reported() -> None:
    state = fold(message_left(ID["m1"], 20), message_left(ID["m2"], 4))
    assert summarize(state).queues.messages == Queue(waiting=2, longest_waiting_since=at(4))
    taken = OfflineMessageTaken(
        site_id=SITE,
        offline_message_id=ID["m2"],
        operator_id="ann",
        visitor_id="v9",
        name="Ada",
        email="ada@example.com",
        text="Call me back, please.",
        left_at=at(4),
    )
    state = fold(taken, state=state)
    assert summarize(state).queues.messages == Queue(waiting=1, longest_waiting_since=at(20))


def test_free_capacity_is_what_the_queue_manager_last_reported_not_a_recount() -> None:
    # Offers, invitations and held chats would fill ann by a recount; only the report counts.
    chat = started(ID["o1"], "v1", "ann")
    state = fold(online("ann"), online("bob"), chat, session_event(ChatHeld, chat))
    state = fold(queued("v2", 1), offered(ID["o3"], "v2", "ann"), state=state)
    state = fold(slots("ann", 1), slots("bob", 3), state=state)
    assert summarize(state).operators == Operators(online=2, with_free_capacity=2)
    ann = summarize_operator(state, "ann")
    assert (ann.pending_offers, ann.max_chats, ann.free_chat_slots) == (1, MAX, 1)
    state = fold(slots("ann", 0), state=state)
    assert summarize(state).operators == Operators(online=2, with_free_capacity=1)
    assert not summarize_operator(state, "ann").has_free_capacity


def test_call_slots_leave_the_chat_slots_as_they_are() -> None:
    state = fold(online("ann"), slots("ann", 1, maximum=1), slots("ann", 0, 1, Channel.CALL))
    assert summarize_operator(state, "ann").free_chat_slots == 1
    assert summarize_operator(state, "ann").max_chats == 1


def test_away_and_offline_operators_have_no_free_capacity() -> None:
    state = fold(online("ann", Presence.AWAY), online("bob"), online("bob", Presence.OFFLINE))
    state = fold(slots("ann", MAX), slots("bob", MAX), state=state)
    assert summarize(state).operators == Operators(online=0, away=1, with_free_capacity=0)
    assert summarize_operator(state, "ann").free_chat_slots == MAX


def test_an_operator_never_heard_of_is_offline_with_nothing_in_progress() -> None:
    summary = summarize_operator(SummaryState(SITE), "zed")
    assert (summary.presence, summary.in_progress, summary.max_chats, summary.free_chat_slots) == (
        Presence.OFFLINE,
        InProgress(),
        None,
        0,
    )


def test_events_about_nothing_held_or_outside_the_summary_change_nothing() -> None:
    chat = started(ID["o1"], "v1", "ann")
    state = fold(online("ann"), queued("v2", 0))
    for event in (
        session_event(ChatHeld, chat),  # a session the projection never saw start
        ended(chat),
        OfferDeclined(site_id=SITE, offer_id=ID["o2"], visitor_id="v2", operator_id="ann"),
        online("ann"),  # presence as it is
        VisitorWaiting(site_id=SITE, visitor_id="v3"),
        ChatMessagePosted(
            site_id=SITE,
            session_id=chat.session_id,
            seq=1,
            author="visitor",
            client_message_id="c1",
            text="hi",
            visitor_id="v1",
            operator_id="ann",
        ),
    ):
        before = state.copy()
        assert apply(state, event) is False, event.type_name()
        assert state == before, event.type_name()


def test_a_copy_of_the_state_stays_as_it_was_while_the_original_changes() -> None:
    before = fold(online("ann"), queued("v1", 0))
    snapshot = summarize(before)
    kept = before.copy()
    fold(offered(ID["o1"], "v1", "ann"), started(ID["o1"], "v1", "ann"), state=before)
    assert summarize(kept) == snapshot
    assert summarize(before) != snapshot


def test_an_event_retried_after_its_successor_leaves_no_phantom() -> None:
    """A failed message is redelivered after the ones prefetched behind it."""
    offer = offered(ID["o1"], "v1", "ann")
    state = fold(online("ann"), offer, queued("v1", 0))  # the queueing came back late
    assert summarize(state).queues.chats == Queue()
    state = fold(online("ann"), queued("v1", 0), started(ID["o1"], "v1", "ann"), offer)
    assert summarize_operator(state, "ann").pending_offers == 0


def test_an_operators_summary_says_why_it_is_away_until_its_presence_changes_again() -> None:
    timed_out = OperatorPresenceChanged(
        site_id=SITE, operator_id="ann", presence=Presence.AWAY, reason="offer_timed_out"
    )
    state = fold(online("ann"), timed_out)
    summary = summarize_operator(state, "ann")
    assert (summary.presence, summary.presence_reason) == (Presence.AWAY, "offer_timed_out")
    back = summarize_operator(fold(online("ann"), state=state), "ann")
    assert (back.presence, back.presence_reason) == (Presence.ONLINE, "operator")
