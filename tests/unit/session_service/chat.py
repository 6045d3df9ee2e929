"""A small chat to test with: one site, one session between ann and a visitor, and helpers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from functools import reduce
from typing import Literal

from livechat_shared.contracts import (
    Channel,
    ChatStarted,
    EndChat,
    Event,
    HoldChat,
    Message,
    PostChatMessage,
    ResumeChat,
)
from session_service.domain import Session, apply, decide

SITE = "acme"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SESSION = uuid.UUID("5e551011-0000-4000-8000-000000000001")
OPERATOR = "ann"
VISITOR = "v-ada"


def started(
    session_id: uuid.UUID = SESSION, visitor: str = VISITOR, operator: str = OPERATOR
) -> ChatStarted:
    return ChatStarted(
        site_id=SITE,
        occurred_at=T0,
        session_id=session_id,
        visitor_id=visitor,
        operator_id=operator,
        channel=Channel.CHAT,
        waited_seconds=4.0,
    )


def post(
    text: str,
    author: Literal["operator", "visitor"] = "visitor",
    author_id: str | None = None,
    client_message_id: str | None = None,
    session_id: uuid.UUID = SESSION,
) -> PostChatMessage:
    return PostChatMessage(
        site_id=SITE,
        session_id=session_id,
        author=author,
        author_id=author_id or (OPERATOR if author == "operator" else VISITOR),
        client_message_id=client_message_id or uuid.uuid4().hex,
        text=text,
    )


def hold(operator: str = OPERATOR, session_id: uuid.UUID = SESSION) -> HoldChat:
    return HoldChat(site_id=SITE, session_id=session_id, operator_id=operator)


def resume(operator: str = OPERATOR, session_id: uuid.UUID = SESSION) -> ResumeChat:
    return ResumeChat(site_id=SITE, session_id=session_id, operator_id=operator)


def end(
    by: Literal["operator", "visitor"] = "operator",
    by_id: str | None = None,
    session_id: uuid.UUID = SESSION,
) -> EndChat:
    return EndChat(
        site_id=SITE,
        session_id=session_id,
        by=by,
        by_id=by_id or (OPERATOR if by == "operator" else VISITOR),
    )


def ids(key: str) -> uuid.UUID:
    """Deterministic ids, as the service derives them: the same key, the same id."""
    return uuid.uuid5(uuid.NAMESPACE_URL, key)


def fresh() -> Session:
    session = apply(None, started())
    assert session is not None
    return session


def step(
    session: Session | None, message: Message, seconds: float = 1.0
) -> tuple[Session | None, list[Event]]:
    """Decide and apply one message, the way the service does (minus the store)."""
    events = decide(session, message, T0 + timedelta(seconds=seconds), ids)
    return reduce(apply, events, session), events


class RecordingPublisher:
    def __init__(self) -> None:
        self.published: list[Message] = []
        self.delayed: list[tuple[Message, float]] = []
        self.due_in: list[float | None] = []
        self.fail_next = False

    async def publish(self, message: Message) -> None:
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("broker went away")
        self.published.append(message)

    async def publish_delayed(
        self, message: Message, delay_seconds: float, due_in_seconds: float | None = None
    ) -> None:
        self.delayed.append((message, delay_seconds))
        self.due_in.append(due_in_seconds)
