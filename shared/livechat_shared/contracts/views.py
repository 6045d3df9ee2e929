"""Read models the session service serves over HTTP to the gateway (and the gateway to consoles)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from livechat_shared.contracts.envelope import Channel


class _View(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SessionView(_View):
    session_id: uuid.UUID
    site_id: str
    visitor_id: str
    operator_id: str
    channel: Channel
    status: Literal["active", "on_hold", "ended"]
    started_at: datetime
    ended_at: datetime | None = None
    ended_by: str | None = None
    last_seq: int = Field(ge=0, description="Sequence number of the newest message (0: none).")


class TranscriptMessage(_View):
    session_id: uuid.UUID
    seq: int = Field(ge=1)
    author: Literal["operator", "visitor"]
    author_id: str
    client_message_id: str
    text: str
    posted_at: datetime


class SessionList(_View):
    sessions: list[SessionView]


class Transcript(_View):
    session_id: uuid.UUID
    messages: list[TranscriptMessage]


class MessagePage(_View):
    """Chat overview: the messages of all sessions an operator leads, newest first."""

    page: int = Field(ge=1)
    page_size: int = Field(ge=1, le=200)
    total: int = Field(ge=0)
    messages: list[TranscriptMessage]


class OfflineMessageView(_View):
    offline_message_id: uuid.UUID
    site_id: str
    visitor_id: str
    name: str
    email: str
    text: str
    left_at: datetime
    status: Literal["waiting", "taken", "replied", "closed"]
    operator_id: str | None = None
    reply: str | None = None


class MessageQueue(_View):
    """The Message Queue: offline messages, oldest first."""

    messages: list[OfflineMessageView]
