"""Read models the services serve over HTTP to the gateway (and the gateway to consoles): the
session service's sessions and transcripts, offline-messages' Message Queue, the summary
projector's Communication Summary and Communication Queue."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from livechat_shared.contracts.envelope import Channel, Presence
from livechat_shared.contracts.events import VisitorBadge


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


# The summary projector's read models (built in summary_projector.views).


class InProgressView(_View):
    active: int = Field(ge=0, description="Chats and calls in progress, not on hold.")
    on_hold: int = Field(ge=0, description="Chats and calls on hold (they still take capacity).")


class QueueView(_View):
    waiting: int = Field(ge=0)
    longest_waiting_since: datetime | None = Field(description="When the oldest one came.")
    longest_wait_seconds: float | None = Field(description="How long it has waited, at as_of.")


class QueuesView(_View):
    chats: QueueView
    calls: QueueView
    messages: QueueView = Field(description="Offline messages left and not taken yet.")


class OperatorsView(_View):
    online: int = Field(ge=0)
    away: int = Field(ge=0)
    with_free_capacity: int = Field(ge=0, description="Online, with room for another chat.")


class _Summary(_View):
    site_id: str
    version: int = Field(ge=0, description="Changes applied to this site's summary so far.")
    as_of: datetime = Field(description="When this summary was read; the seconds count to it.")


class SiteSummaryView(_Summary):
    view: Literal["full"] = "full"
    in_progress: InProgressView
    queues: QueuesView
    operators: OperatorsView


class MinimizedSummaryView(_Summary):
    view: Literal["minimized"] = "minimized"
    queues: QueuesView


class PendingOfferView(_View):
    """An incoming chat request awaiting the operator's answer, as its `ChatOffered` said."""

    offer_id: uuid.UUID
    visitor_id: str
    channel: Channel
    waiting_since: datetime
    expires_at: datetime


class OperatorSummaryView(_Summary):
    operator_id: str
    presence: Presence
    max_chats: int | None = Field(
        ge=1,
        description="Its own maximum, or the site-wide one, as the queue manager reported it; "
        "null until the queue manager has reported this operator.",
    )
    in_progress: InProgressView
    pending_offers: int = Field(ge=0, description="Incoming chat requests awaiting its answer.")
    pending_invitations: int = Field(ge=0, description="Its invitations awaiting the visitor.")
    free_chat_slots: int = Field(ge=0)
    has_free_capacity: bool = Field(description="Online, and a free chat slot.")
    presence_reason: Literal["operator", "offer_timed_out", "disconnected"] = Field(
        default="operator",
        description="Why it has that presence: set by the operator, or made away because an "
        "offer timed out or its console disconnected.",
    )
    offers: list[PendingOfferView] = Field(
        default_factory=list,
        description="Its pending incoming chat requests, soonest to expire first: a console "
        "that (re)connects shows those whose ChatOffered it missed.",
    )


class QueueEntryView(_View):
    visitor_id: str
    channel: Channel
    waiting_since: datetime
    seconds_in_queue: float
    badge: VisitorBadge
    status: Literal["waiting", "offered"]
    offered_to: str | None


class CommunicationQueueView(_View):
    """The Communication Queue overview: waiting and offered visitors, oldest first."""

    site_id: str
    version: int
    as_of: datetime
    visitors: list[QueueEntryView]


# The maximum number of chats: the summary projector's view of the queue manager's settings.


class ChatLimitView(_View):
    """An operator's maximum number of chats and where it comes from (the gateway's answer)."""

    site_max_chats: int = Field(ge=1, le=50, description="The site-wide maximum in force.")
    operator_max_chats: int | None = Field(
        ge=1, le=50, description="The operator's own maximum; null: the site's applies."
    )
    effective_max_chats: int = Field(
        ge=1, le=50, description="The maximum the queue manager applies to this operator."
    )


class OperatorChatLimitView(ChatLimitView):
    """The projector's answer to the gateway: the same, naming whose it is (checked there)."""

    site_id: str
    operator_id: str


class OperatorMaxChatsView(_View):
    operator_id: str
    max_chats: int | None = Field(ge=1, le=50, description="Its own maximum; null: the site's.")


class SiteSettingsView(_View):
    """The site's maximum number of chats and every known operator's own override."""

    site_id: str
    max_chats: int = Field(ge=1, le=50, description="The site-wide maximum in force.")
    from_default: bool = Field(
        description="True while the site never set its own value (the default applies)."
    )
    operators: list[OperatorMaxChatsView] = Field(
        description="Every operator the site has seen, by id, with its own maximum if any."
    )
