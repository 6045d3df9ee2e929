"""Properties over random conversations: numbering without gaps, a single end, nothing after it."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from hypothesis import given, settings
from hypothesis import strategies as st
from livechat_shared.contracts import (
    ChatEnded,
    ChatHeld,
    ChatMessagePosted,
    ChatResumed,
    Command,
    CommandRejected,
    EndChatIfVisitorGone,
    Message,
    VisitorDisconnected,
    VisitorReconnected,
)
from session_service.domain import Session

from tests.unit.session_service.chat import (
    OPERATOR,
    SITE,
    T0,
    VISITOR,
    end,
    fresh,
    hold,
    post,
    resume,
    step,
)

Role = Literal["operator", "visitor"]
people: st.SearchStrategy[tuple[Role, str]] = st.sampled_from(
    [("operator", OPERATOR), ("visitor", VISITOR), ("operator", "bob")]
)


def _post(who: tuple[Role, str]) -> Message:
    return post("hello", who[0], who[1])


def _end(who: tuple[Role, str]) -> Message:
    return end(who[0], who[1])


def _gone(seconds: int) -> Message:
    return EndChatIfVisitorGone(
        site_id=SITE, visitor_id=VISITOR, disconnected_at=T0 + timedelta(seconds=seconds)
    )


def _away(seconds: int) -> Message:
    return VisitorDisconnected(
        site_id=SITE, visitor_id=VISITOR, occurred_at=T0 + timedelta(seconds=seconds)
    )


moments = st.integers(min_value=0, max_value=3)
messages = st.one_of(
    people.map(_post),
    st.sampled_from([OPERATOR, "bob"]).map(hold),
    st.sampled_from([OPERATOR, "bob"]).map(resume),
    people.map(_end),
    moments.map(_away),
    st.just(VisitorReconnected(site_id=SITE, visitor_id=VISITOR)),
    moments.map(_gone),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(messages, max_size=40))
def test_a_conversation_is_numbered_without_gaps_ends_once_and_nothing_follows_the_end(
    conversation: list[Message],
) -> None:
    session: Session | None = fresh()
    status = "active"
    seqs: list[int] = []
    for n, message in enumerate(conversation, start=1):
        before = session
        session, events = step(session, message, seconds=n)
        assert session is not None
        if isinstance(message, Command) and not isinstance(message, EndChatIfVisitorGone):
            assert len(events) == 1  # every request is answered: done, or why not
        for event in events:
            if isinstance(event, CommandRejected):
                assert session == before  # a rejection changes nothing
            elif isinstance(event, ChatMessagePosted):
                assert status != "ended"
                seqs.append(event.seq)
            elif isinstance(event, ChatHeld):
                assert status == "active"
                status = "on_hold"
            elif isinstance(event, ChatResumed):
                assert status == "on_hold"
                status = "active"
            elif isinstance(event, ChatEnded):
                assert status != "ended"
                status = "ended"
            else:
                assert event is message  # a kept fact about the visitor's presence
        assert session.status == status
    assert seqs == list(range(1, len(seqs) + 1))
    assert session is not None and session.last_seq == len(seqs)
