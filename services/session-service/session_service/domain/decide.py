"""decide(session, message, now, new_id): the session rules. Returns the events, in order.

A consumed fact the service keeps (ChatStarted, VisitorDisconnected, VisitorReconnected) comes
back in the list unchanged: the caller applies and stores it, but does not publish it again.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from livechat_shared.contracts import (
    ChatEnded,
    ChatHeld,
    ChatMessagePosted,
    ChatResumed,
    ChatStarted,
    Command,
    CommandRejected,
    EndChat,
    EndChatIfVisitorGone,
    Event,
    HoldChat,
    Message,
    PostChatMessage,
    ResumeChat,
    VisitorDisconnected,
    VisitorReconnected,
)

from session_service.domain.model import EndedBy, Role, Session, to_millis

NewId = Callable[[str], uuid.UUID]
"""A deterministic id for a key: deciding the same message again yields the very same ids."""

NOT_YOURS = "no such session of yours"
"""The one answer to a command naming a session that does not exist on the sender's site and to
one naming a session the sender takes no part in: the sender learns nothing of others' chats."""


def decide(
    session: Session | None,
    message: Message,
    now: datetime,
    new_id: NewId,
    earlier: ChatMessagePosted | None = None,
) -> list[Event]:
    """What `message` means for `session` (None: there is none).

    `session` is the one the message names, or for visitor presence the visitor's current one
    (else its latest).
    `earlier` is the stored message carrying a PostChatMessage's client_message_id, if any.
    """
    rule = EVENT_HANDLERS.get(type(message)) or COMMAND_HANDLERS.get(type(message))
    return rule(session, message, now, new_id, earlier) if rule is not None else []


def _started(session: Session | None, event: ChatStarted, *_: object) -> list[Event]:
    return [] if session is not None else [event]


def _disconnected(session: Session | None, event: VisitorDisconnected, *_: object) -> list[Event]:
    return [event] if session is not None and session.is_open else []


def _reconnected(session: Session | None, event: VisitorReconnected, *_: object) -> list[Event]:
    away = session is not None and session.is_open and session.visitor_gone_since
    return [event] if away else []


def _post(
    session: Session | None,
    command: PostChatMessage,
    now: datetime,
    new_id: NewId,
    earlier: ChatMessagePosted | None,
) -> list[Event]:
    def reject(reason: str) -> list[Event]:
        return [_rejected(command, reason, command.author, command.author_id, now, new_id)]

    if session is None:
        return reject(NOT_YOURS)
    if not session.has(command.author, command.author_id):
        return reject(NOT_YOURS)
    if earlier is not None:
        # Checked before the status: a retry that arrives after the end still gets its answer.
        if earlier.author == command.author:
            return [earlier]  # a retry: the message is stored once, its event is the same one
        return reject("client_message_id is already taken in this session")
    if not session.is_open:
        return reject("the session has ended")
    return [
        ChatMessagePosted(
            event_id=new_id(f"message/{session.session_id}/{command.client_message_id}"),
            occurred_at=to_millis(now),
            correlation_id=command.correlation_id,
            site_id=session.site_id,
            **_about(session),
            seq=session.last_seq + 1,
            author=command.author,
            client_message_id=command.client_message_id,
            text=command.text,
        )
    ]


def _hold_or_resume(
    session: Session | None,
    command: HoldChat | ResumeChat,
    now: datetime,
    new_id: NewId,
    *_: object,
) -> list[Event]:
    holding = isinstance(command, HoldChat)

    def reject(reason: str) -> list[Event]:
        return [_rejected(command, reason, "operator", command.operator_id, now, new_id)]

    if session is None:
        return reject(NOT_YOURS)
    if not session.has("operator", command.operator_id):
        return reject(NOT_YOURS)
    if not session.is_open:
        return reject("the session has ended")
    if holding and session.status == "on_hold":
        return reject("the session is on hold already")
    if not holding and session.status != "on_hold":
        return reject("the session is not on hold")
    event_type = ChatHeld if holding else ChatResumed
    return [event_type(**_envelope(command, event_type, now, new_id), **_about(session))]


def _end(
    session: Session | None, command: EndChat, now: datetime, new_id: NewId, *_: object
) -> list[Event]:
    def reject(reason: str) -> list[Event]:
        return [_rejected(command, reason, command.by, command.by_id, now, new_id)]

    if session is None:
        return reject(NOT_YOURS)
    if not session.has(command.by, command.by_id):
        return reject(NOT_YOURS)
    if not session.is_open:
        return reject("the session has ended already")
    return [_ended(session, command, command.by, now, new_id)]


def _end_if_gone(
    session: Session | None,
    command: EndChatIfVisitorGone,
    now: datetime,
    new_id: NewId,
    *_: object,
) -> list[Event]:
    if session is None or not session.is_open:
        return []
    if session.visitor_gone_since != to_millis(command.disconnected_at):
        return []  # the visitor came back (or left again later: that check will decide)
    return [_ended(session, command, "visitor_gone", now, new_id)]


def _ended(
    session: Session, cause: Command, ended_by: EndedBy, now: datetime, new_id: NewId
) -> ChatEnded:
    return ChatEnded(
        **_envelope(cause, ChatEnded, now, new_id),
        **_about(session),
        channel=session.channel,
        ended_by=ended_by,
    )


def _rejected(
    command: Command, reason: str, role: Role, sender_id: str, now: datetime, new_id: NewId
) -> CommandRejected:
    """Addressed to the sender, so the gateway can tell the one who asked."""
    return CommandRejected(
        **_envelope(command, CommandRejected, now, new_id),
        command_id=command.command_id,
        command_type=command.type_name(),
        operator_id=sender_id if role == "operator" else None,
        visitor_id=sender_id if role == "visitor" else None,
        reason=reason,
    )


def _envelope(
    cause: Message, event_type: type[Event], now: datetime, new_id: NewId
) -> dict[str, Any]:
    return {
        "event_id": new_id(f"{cause.message_id}/{event_type.type_name()}"),
        "occurred_at": now,
        "correlation_id": cause.correlation_id,
        "site_id": cause.site_id,
    }


def _about(session: Session) -> dict[str, Any]:
    return {
        "session_id": session.session_id,
        "visitor_id": session.visitor_id,
        "operator_id": session.operator_id,
    }


Rule = Callable[[Session | None, Any, datetime, NewId, ChatMessagePosted | None], list[Event]]
"""A rule: the session (or None), the message, the time, the id maker and the earlier message
with the same client_message_id (only a PostChatMessage has one). Returns the events, in order."""

EVENT_HANDLERS: dict[type[Message], Rule] = {
    ChatStarted: _started,
    VisitorDisconnected: _disconnected,
    VisitorReconnected: _reconnected,
}
"""Facts other services published, which the session keeps (returned unchanged) or ignores."""

COMMAND_HANDLERS: dict[type[Message], Rule] = {
    PostChatMessage: _post,
    HoldChat: _hold_or_resume,
    ResumeChat: _hold_or_resume,
    EndChat: _end,
    EndChatIfVisitorGone: _end_if_gone,
}
"""What was asked of the session: each gives its events, or a CommandRejected to the sender."""
