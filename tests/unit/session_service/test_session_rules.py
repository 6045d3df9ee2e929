"""The session rules, pure: who may post, hold, resume and end, and when a gone visitor's chat ends."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Literal

import pytest
from livechat_shared.contracts import (
    ChatEnded,
    ChatHeld,
    ChatMessagePosted,
    ChatResumed,
    CommandRejected,
    EndChatIfVisitorGone,
    Event,
    Message,
    VisitorDisconnected,
    VisitorReconnected,
)
from session_service.domain import Session, Status, decide

from tests.unit.session_service.chat import (
    OPERATOR,
    SESSION,
    SITE,
    T0,
    VISITOR,
    end,
    fresh,
    hold,
    ids,
    post,
    resume,
    started,
    step,
)


def only(events: list[Event]) -> Event:
    assert len(events) == 1, events
    return events[0]


def rejection(events: list[Event]) -> CommandRejected:
    event = only(events)
    assert isinstance(event, CommandRejected), event
    return event


def gone_check(disconnected_at_seconds: float) -> EndChatIfVisitorGone:
    return EndChatIfVisitorGone(
        site_id=SITE,
        visitor_id=VISITOR,
        disconnected_at=T0 + timedelta(seconds=disconnected_at_seconds),
    )


def disconnected(at_seconds: float) -> VisitorDisconnected:
    return VisitorDisconnected(
        site_id=SITE, visitor_id=VISITOR, occurred_at=T0 + timedelta(seconds=at_seconds)
    )


def test_a_started_chat_is_an_active_session_without_messages_and_starting_again_changes_nothing() -> (
    None
):
    fact = started()
    session, events = step(None, fact)
    assert session == Session(
        session_id=SESSION,
        site_id=SITE,
        visitor_id=VISITOR,
        operator_id=OPERATOR,
        channel=started().channel,
        started_at=T0,
        status="active",
        last_seq=0,
    )
    assert events == [fact]  # a consumed fact, kept
    assert step(session, fact) == (session, [])


def test_messages_are_numbered_one_after_another_whoever_writes() -> None:
    session: Session | None = fresh()
    posted: list[ChatMessagePosted] = []
    for text, author in [("hi", "visitor"), ("hello", "operator"), ("order 42?", "visitor")]:
        session, events = step(session, post(text, author))  # type: ignore[arg-type]
        event = only(events)
        assert isinstance(event, ChatMessagePosted)
        posted.append(event)
    assert [(m.seq, m.author, m.text) for m in posted] == [
        (1, "visitor", "hi"),
        (2, "operator", "hello"),
        (3, "visitor", "order 42?"),
    ]
    assert session is not None and session.last_seq == 3
    assert {(m.visitor_id, m.operator_id) for m in posted} == {(VISITOR, OPERATOR)}


@pytest.mark.parametrize(
    "author, author_id, reason",
    [
        ("operator", "bob", "no such session of yours"),
        ("visitor", "v-eve", "no such session of yours"),
        ("operator", VISITOR, "no such session of yours"),
    ],
)
def test_only_the_sessions_operator_and_visitor_may_post_and_the_sender_is_told(
    author: Literal["operator", "visitor"], author_id: str, reason: str
) -> None:
    command = post("let me in", author, author_id)
    rejected = rejection(step(fresh(), command)[1])
    assert rejected.reason == reason
    assert rejected.command_id == command.command_id
    assert rejected.command_type == "PostChatMessage"
    sender = rejected.operator_id if author == "operator" else rejected.visitor_id
    assert sender == author_id
    assert (rejected.operator_id is None) != (rejected.visitor_id is None)


def test_a_message_to_an_unknown_session_is_rejected_as_one_to_a_session_of_others() -> None:
    unknown = rejection(step(None, post("anyone?"))[1]).reason
    others = rejection(step(fresh(), post("let me in", "visitor", "v-eve"))[1]).reason
    assert unknown == others == "no such session of yours"  # nothing tells them apart


def test_messages_go_on_while_held_but_not_after_the_end() -> None:
    session, _ = step(fresh(), hold())
    _, events = step(session, post("still there?"))
    assert isinstance(only(events), ChatMessagePosted)
    session, _ = step(session, end())
    assert rejection(step(session, post("hello?"))[1]).reason == "the session has ended"


def test_a_retried_message_is_the_very_same_event_even_after_the_end() -> None:
    session = fresh()
    first = post("hi", client_message_id="c-1")
    session_after, events = step(session, first)
    stored = only(events)
    assert isinstance(stored, ChatMessagePosted)
    retry = post("hi", client_message_id="c-1")  # a new command id: the client sent it again
    assert decide(session_after, retry, T0 + timedelta(minutes=5), ids, stored) == [stored]
    ended, _ = step(session_after, end())
    assert decide(ended, retry, T0 + timedelta(minutes=5), ids, stored) == [stored]


def test_a_client_message_id_taken_by_the_other_party_is_rejected() -> None:
    session, events = step(fresh(), post("hi", "visitor", client_message_id="m1"))
    earlier = only(events)
    assert isinstance(earlier, ChatMessagePosted)
    command = post("hello", "operator", client_message_id="m1")
    rejected = rejection(decide(session, command, T0, ids, earlier))
    assert "client_message_id" in rejected.reason and rejected.operator_id == OPERATOR


def test_deciding_the_same_command_again_yields_the_same_events_and_ids() -> None:
    command = post("hi", client_message_id="c-1")
    now = T0 + timedelta(seconds=3)
    assert decide(fresh(), command, now, ids) == decide(fresh(), command, now, ids)
    held = hold()
    assert decide(fresh(), held, now, ids) == decide(fresh(), held, now, ids)
    # the message's event id is the session's and the client's, not the command's
    retry = post("hi", client_message_id="c-1")
    assert (
        only(decide(fresh(), command, now, ids)).event_id
        == only(decide(fresh(), retry, now, ids)).event_id
    )


def at(status: Status) -> Session:
    session = fresh()
    return replace(session, status=status)


@pytest.mark.parametrize(
    "status, command, outcome",
    [
        ("active", hold(), ChatHeld),
        ("on_hold", hold(), "the session is on hold already"),
        ("ended", hold(), "the session has ended"),
        ("on_hold", resume(), ChatResumed),
        ("active", resume(), "the session is not on hold"),
        ("ended", resume(), "the session has ended"),
        ("active", end(), ChatEnded),
        ("on_hold", end(), ChatEnded),
        ("ended", end(), "the session has ended already"),
        ("active", hold("bob"), "no such session of yours"),
        ("on_hold", resume("bob"), "no such session of yours"),
        ("active", end("operator", "bob"), "no such session of yours"),
        ("active", end("visitor", "v-eve"), "no such session of yours"),
    ],
    ids=lambda value: getattr(value, "__name__", None) or str(getattr(value, "type", value)),
)
def test_hold_resume_and_end_only_from_the_right_status_and_by_the_right_person(
    status: Status, command: Message, outcome: type[Event] | str
) -> None:
    session, events = step(at(status), command)
    if isinstance(outcome, str):
        assert rejection(events).reason == outcome
        assert session == at(status)
        return
    event = only(events)
    assert type(event) is outcome
    assert session is not None
    assert (
        session.status == {ChatHeld: "on_hold", ChatResumed: "active", ChatEnded: "ended"}[outcome]
    )


def test_hold_then_resume_then_end_by_the_visitor() -> None:
    session: Session | None = fresh()
    kinds = []
    for command in (hold(), resume(), end("visitor")):
        session, events = step(session, command)
        kinds.append(type(only(events)))
    assert kinds == [ChatHeld, ChatResumed, ChatEnded]
    assert session is not None and session.status == "ended"
    assert session.ended_by == "visitor" and session.ended_at == T0 + timedelta(seconds=1)


def test_a_held_chat_is_not_ended_by_holding_it() -> None:
    _, events = step(fresh(), hold())
    assert not any(isinstance(e, ChatEnded) for e in events)


def test_commands_to_an_unknown_session_are_rejected_with_the_sender() -> None:
    for command in (hold(), resume(), end("visitor")):
        rejected = rejection(step(None, command)[1])
        assert rejected.reason == "no such session of yours"
        assert (rejected.operator_id, rejected.visitor_id) in {(OPERATOR, None), (None, VISITOR)}


def test_a_visitor_gone_past_the_grace_ends_the_chat() -> None:
    fact = disconnected(10.123456)
    session, events = step(fresh(), fact)
    assert events == [fact]  # kept, to be stored: not ours to publish
    assert session is not None
    # stores keep milliseconds: the check still recognises the very same disconnection
    assert session.visitor_gone_since == T0 + timedelta(seconds=10.123)
    session, events = step(session, gone_check(10.123456), seconds=70)
    ended = only(events)
    assert isinstance(ended, ChatEnded) and ended.ended_by == "visitor_gone"
    assert ended.operator_id == OPERATOR and ended.channel == "chat"
    assert session is not None and session.status == "ended"


def test_a_visitor_back_within_the_grace_keeps_the_chat() -> None:
    session, _ = step(fresh(), disconnected(10))
    back = VisitorReconnected(site_id=SITE, visitor_id=VISITOR, occurred_at=T0)
    session, events = step(session, back)
    assert events == [back]
    assert session is not None and session.visitor_gone_since is None
    assert step(session, gone_check(10), seconds=70) == (session, [])


def test_only_the_check_of_the_latest_disconnection_may_end_the_chat() -> None:
    session, _ = step(fresh(), disconnected(10))
    session, _ = step(session, disconnected(40))  # back, then gone again (reconnect lost)
    assert step(session, gone_check(10), seconds=70)[1] == []
    assert isinstance(only(step(session, gone_check(40), seconds=100)[1]), ChatEnded)


def test_presence_of_a_visitor_without_an_open_session_changes_nothing() -> None:
    ended, _ = step(fresh(), end())
    for session in (None, ended):
        assert step(session, disconnected(10))[1] == []
        assert step(session, gone_check(10))[1] == []
    back = VisitorReconnected(site_id=SITE, visitor_id=VISITOR)
    assert step(fresh(), back)[1] == []  # it never left
