"""The Message Queue's pure rules: taking, replying and closing, with no store or broker."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from livechat_shared.contracts import (
    CloseMessage,
    CommandRejected,
    MessageLeft,
    OfflineMessageClosed,
    OfflineMessageReplied,
    ReplyToMessage,
    TakeNextMessage,
)
from offline_messages.domain import (
    CLOSED,
    NO_SUCH_MESSAGE,
    NOT_TAKEN,
    NOTHING_WAITING,
    TAKEN_BY_ANOTHER,
    OfflineMessage,
    Status,
    apply,
    decide,
    left,
    nothing_waiting,
    taken,
    taken_event,
)

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
EVENT_ID = uuid.UUID("00000000-0000-0000-0000-000000000001")

Answer = Callable[[OfflineMessage, str], ReplyToMessage | CloseMessage]


def message_left(**overrides: object) -> MessageLeft:
    fields: dict[str, object] = {
        "site_id": "acme",
        "offline_message_id": uuid.uuid4(),
        "visitor_id": "v1",
        "name": "Ada",
        "email": "ada@example.com",
        "text": "Do you ship to Norway?",
        "occurred_at": NOW - timedelta(hours=1),
    }
    return MessageLeft.model_validate({**fields, **overrides})


def taken_by(operator_id: str) -> OfflineMessage:
    return taken(left(message_left()), operator_id, uuid.uuid4(), NOW)


def reply(message: OfflineMessage, operator_id: str, text: str = "Yes, we do.") -> ReplyToMessage:
    return ReplyToMessage(
        site_id="acme",
        offline_message_id=message.offline_message_id,
        operator_id=operator_id,
        text=text,
    )


def close(message: OfflineMessage, operator_id: str) -> CloseMessage:
    return CloseMessage(
        site_id="acme", offline_message_id=message.offline_message_id, operator_id=operator_id
    )


def test_a_message_left_waits_dated_when_the_visitor_left_it() -> None:
    event = message_left()
    message = left(event)
    assert message.status == "waiting"
    assert message.left_at == event.occurred_at
    assert (message.name, message.email, message.text) == (event.name, event.email, event.text)
    assert message.operator_id is None


def test_the_queue_is_oldest_first_then_by_id() -> None:
    same_time = [left(message_left()) for _ in range(3)]
    older = left(message_left(occurred_at=NOW - timedelta(days=1)))
    queue = sorted([*same_time, older], key=lambda m: m.queue_position)
    assert queue[0] is older
    assert [str(m.offline_message_id) for m in queue[1:]] == sorted(
        str(m.offline_message_id) for m in same_time
    )


def test_taking_gives_the_message_to_the_operator_and_records_the_command() -> None:
    command_id = uuid.uuid4()
    message = taken(left(message_left()), "ann", command_id, NOW)
    assert (message.status, message.operator_id) == ("taken", "ann")
    assert (message.taken_at, message.taken_by_command) == (NOW, command_id)


def test_only_a_waiting_message_can_be_taken() -> None:
    with pytest.raises(ValueError, match="waiting"):
        taken(taken_by("ann"), "bob", uuid.uuid4(), NOW)


def test_the_taken_event_is_rebuilt_alike_from_the_stored_message() -> None:
    message = taken_by("ann")
    command = TakeNextMessage(site_id="acme", operator_id="ann")
    first = taken_event(message, command, EVENT_ID)
    assert first == taken_event(message, command, EVENT_ID)
    assert first.occurred_at == NOW
    assert first.left_at == message.left_at
    assert (first.operator_id, first.offline_message_id) == ("ann", message.offline_message_id)


def test_an_empty_queue_is_answered_plainly() -> None:
    command = TakeNextMessage(site_id="acme", operator_id="ann")
    answer = nothing_waiting(command, NOW, EVENT_ID)
    assert answer.reason == NOTHING_WAITING == "no message is waiting"
    assert (answer.command_id, answer.command_type) == (command.command_id, "TakeNextMessage")
    assert answer.operator_id == "ann"


def test_the_operator_who_took_it_replies_and_may_reply_again() -> None:
    message = taken_by("ann")
    first = decide(message, reply(message, "ann"), NOW, EVENT_ID)
    assert isinstance(first, OfflineMessageReplied)
    assert (first.email, first.text, first.event_id) == (message.email, "Yes, we do.", EVENT_ID)
    replied = apply(message, first)
    assert (replied.status, replied.reply) == ("replied", "Yes, we do.")

    second = decide(replied, reply(replied, "ann", "Shipping takes 3 days."), NOW, EVENT_ID)
    assert isinstance(second, OfflineMessageReplied)
    assert apply(replied, second).reply == "Shipping takes 3 days."


@pytest.mark.parametrize("status", ["taken", "replied"])
def test_the_operator_who_took_it_closes_it(status: Status) -> None:
    message = replace(taken_by("ann"), status=status)
    event = decide(message, close(message, "ann"), NOW, EVENT_ID)
    assert isinstance(event, OfflineMessageClosed)
    assert apply(message, event).status == "closed"


@pytest.mark.parametrize("answer", [reply, close])
def test_another_operator_may_neither_reply_nor_close(answer: Answer) -> None:
    message = taken_by("ann")
    command = answer(message, "bob")
    event = decide(message, command, NOW, EVENT_ID)
    assert isinstance(event, CommandRejected)
    assert event.reason == TAKEN_BY_ANOTHER
    assert (event.operator_id, event.command_id) == ("bob", command.command_id)
    assert apply(message, event) == message


@pytest.mark.parametrize("answer", [reply, close])
def test_a_waiting_message_must_be_taken_first(answer: Answer) -> None:
    message = left(message_left())
    event = decide(message, answer(message, "ann"), NOW, EVENT_ID)
    assert isinstance(event, CommandRejected) and event.reason == NOT_TAKEN


@pytest.mark.parametrize("answer", [reply, close])
def test_a_closed_message_takes_no_more_answers(answer: Answer) -> None:
    message = replace(taken_by("ann"), status="closed")
    event = decide(message, answer(message, "ann"), NOW, EVENT_ID)
    assert isinstance(event, CommandRejected) and event.reason == CLOSED


def test_an_unknown_message_is_rejected() -> None:
    message = taken_by("ann")
    event = decide(None, reply(message, "ann"), NOW, EVENT_ID)
    assert isinstance(event, CommandRejected) and event.reason == NO_SUCH_MESSAGE
    assert event.command_type == "ReplyToMessage"
