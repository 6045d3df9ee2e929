"""Decisions on offline messages: state and command in, event out; time and ids passed in."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

from livechat_shared.contracts import (
    CloseMessage,
    Command,
    CommandRejected,
    Event,
    MessageLeft,
    OfflineMessageClosed,
    OfflineMessageReplied,
    OfflineMessageTaken,
    ReplyToMessage,
    TakeNextMessage,
)

from offline_messages.domain.model import WAITING, OfflineMessage, Status

NOTHING_WAITING = "no message is waiting"
NO_SUCH_MESSAGE = "no such message on this site"
NOT_TAKEN = "the message is waiting: take it with Next message first"
TAKEN_BY_ANOTHER = "the message was taken by another operator"
CLOSED = "the message is closed"


def left(event: MessageLeft) -> OfflineMessage:
    """A message the visitor just left: it waits, dated when the visitor left it."""
    return OfflineMessage(
        offline_message_id=event.offline_message_id,
        site_id=event.site_id,
        visitor_id=event.visitor_id,
        name=event.name,
        email=event.email,
        text=event.text,
        left_at=event.occurred_at,
    )


@dataclass(frozen=True)
class Claim:
    """What Next message puts on the waiting message it takes: every store writes these."""

    operator_id: str
    taken_at: datetime
    taken_by_command: uuid.UUID
    status: Status = "taken"


def next_message_claim(operator_id: str, command_id: uuid.UUID, now: datetime) -> Claim:
    return Claim(operator_id=operator_id, taken_at=now, taken_by_command=command_id)


def taken(
    message: OfflineMessage, operator_id: str, command_id: uuid.UUID, now: datetime
) -> OfflineMessage:
    """The message under the claim of Next message; stores apply it atomically."""
    if message.status != WAITING:
        raise ValueError(f"only a waiting message can be taken, not a {message.status} one")
    return replace(message, **asdict(next_message_claim(operator_id, command_id, now)))


def taken_event(
    message: OfflineMessage, command: TakeNextMessage, event_id: uuid.UUID
) -> OfflineMessageTaken:
    """The event of a take, rebuilt from the stored message alone: a redelivered command
    yields the very same event."""
    assert message.operator_id is not None and message.taken_at is not None
    return OfflineMessageTaken(
        event_id=event_id,
        occurred_at=message.taken_at,
        correlation_id=command.correlation_id,
        site_id=message.site_id,
        offline_message_id=message.offline_message_id,
        operator_id=message.operator_id,
        visitor_id=message.visitor_id,
        name=message.name,
        email=message.email,
        text=message.text,
        left_at=message.left_at,
    )


def nothing_waiting(
    command: TakeNextMessage, now: datetime, event_id: uuid.UUID
) -> CommandRejected:
    return _rejected(command, NOTHING_WAITING, now, event_id)


def decide(
    message: OfflineMessage | None,
    command: ReplyToMessage | CloseMessage,
    now: datetime,
    event_id: uuid.UUID,
) -> Event:
    """Reply or close, if the message is this operator's and still open; else say why not."""
    refusal = _refusal(message, command.operator_id)
    if refusal is not None or message is None:
        return _rejected(command, refusal or NO_SUCH_MESSAGE, now, event_id)
    return COMMAND_HANDLERS[type(command)](message, command, now, event_id)


def _reply(
    message: OfflineMessage, command: ReplyToMessage, now: datetime, event_id: uuid.UUID
) -> Event:
    return OfflineMessageReplied(
        event_id=event_id,
        occurred_at=now,
        correlation_id=command.correlation_id,
        site_id=command.site_id,
        offline_message_id=message.offline_message_id,
        operator_id=command.operator_id,
        email=message.email,
        text=command.text,
    )


def _close(
    message: OfflineMessage, command: CloseMessage, now: datetime, event_id: uuid.UUID
) -> Event:
    return OfflineMessageClosed(
        event_id=event_id,
        occurred_at=now,
        correlation_id=command.correlation_id,
        site_id=command.site_id,
        offline_message_id=message.offline_message_id,
        operator_id=command.operator_id,
    )


COMMAND_HANDLERS: dict[
    type[Command], Callable[[OfflineMessage, Any, datetime, uuid.UUID], Event]
] = {
    ReplyToMessage: _reply,
    CloseMessage: _close,
}
"""What an operator may do to a message that is theirs and still open."""


def apply(message: OfflineMessage, event: Event) -> OfflineMessage:
    """The message after a reply or close; other events leave it as it is."""
    rule = EVENT_HANDLERS.get(type(event))
    return rule(message, event) if rule is not None else message


EVENT_HANDLERS: dict[type[Event], Callable[[OfflineMessage, Any], OfflineMessage]] = {
    OfflineMessageReplied: lambda message, replied: replace(
        message, status="replied", reply=replied.text
    ),
    OfflineMessageClosed: lambda message, _: replace(message, status="closed"),
}


def _refusal(message: OfflineMessage | None, operator_id: str) -> str | None:
    if message is None:
        return NO_SUCH_MESSAGE
    if message.status == WAITING:
        return NOT_TAKEN
    if message.operator_id != operator_id:
        return TAKEN_BY_ANOTHER
    if message.status == "closed":
        return CLOSED
    return None


def _rejected(
    command: TakeNextMessage | ReplyToMessage | CloseMessage,
    reason: str,
    now: datetime,
    event_id: uuid.UUID,
) -> CommandRejected:
    return CommandRejected(
        event_id=event_id,
        occurred_at=now,
        correlation_id=command.correlation_id,
        site_id=command.site_id,
        command_id=command.command_id,
        command_type=command.type_name(),
        operator_id=command.operator_id,
        reason=reason,
    )
