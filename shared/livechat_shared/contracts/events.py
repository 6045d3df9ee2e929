"""Events: past-tense facts a service publishes on the domain exchange for anyone to consume."""

from __future__ import annotations

import uuid
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from livechat_shared.contracts.envelope import (
    Channel,
    ClientMessageId,
    Identifier,
    Message,
    MessageText,
    Presence,
    UtcDatetime,
)


class Event(Message):
    kind: ClassVar[str] = "event"

    event_id: uuid.UUID = Field(default_factory=uuid.uuid4, description="Unique per event.")

    @property
    def message_id(self) -> uuid.UUID:
        return self.event_id


class VisitorBadge(BaseModel):
    """What the operator sees of a visitor before accepting."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    current_page: HttpUrl | None = None
    referrer: HttpUrl | None = None
    user_agent: str | None = Field(default=None, max_length=512)
    location: str | None = Field(default=None, max_length=200)


# --- visitor gateway -------------------------------------------------------------------------


class VisitorWaiting(Event):
    """A visitor asked for a chat or a call and waits for an operator."""

    type: Literal["VisitorWaiting"] = "VisitorWaiting"
    visitor_id: Identifier
    channel: Channel = Channel.CHAT
    badge: VisitorBadge = Field(default_factory=VisitorBadge)


class VisitorDisconnected(Event):
    """The visitor's last socket closed; if it stays away past the grace period, its chat ends."""

    type: Literal["VisitorDisconnected"] = "VisitorDisconnected"
    visitor_id: Identifier


class VisitorReconnected(Event):
    type: Literal["VisitorReconnected"] = "VisitorReconnected"
    visitor_id: Identifier


class VisitorLeftQueue(Event):
    """A waiting (or offered) visitor gave up before a chat started."""

    type: Literal["VisitorLeftQueue"] = "VisitorLeftQueue"
    visitor_id: Identifier


# --- queue manager: the queue ----------------------------------------------------------------


class VisitorQueued(Event):
    """The queue manager put a visitor in the queue of its channel."""

    type: Literal["VisitorQueued"] = "VisitorQueued"
    visitor_id: Identifier
    channel: Channel
    waiting_since: UtcDatetime
    badge: VisitorBadge = Field(default_factory=VisitorBadge)


class VisitorRequeued(Event):
    """An offered visitor went back to the queue, keeping its original waiting time."""

    type: Literal["VisitorRequeued"] = "VisitorRequeued"
    visitor_id: Identifier
    channel: Channel
    waiting_since: UtcDatetime
    reason: Literal[
        "declined", "put_back", "timed_out", "operator_offline", "operator_disconnected"
    ]


class QueuePositionsChanged(Event):
    """The head of a queue moved: who waits where, and the estimated wait per place.

    Lists at most the first 100 waiting visitors (position = index + 1); published when they
    changed, at most once per site and channel for each batch of decisions (the head as the
    batch left it).
    """

    type: Literal["QueuePositionsChanged"] = "QueuePositionsChanged"
    channel: Channel
    waiting: list[Identifier] = Field(max_length=100)
    total_waiting: int = Field(ge=0)
    seconds_per_position: float | None = Field(
        default=None, ge=0, description="Recent average time between visitors leaving the queue."
    )


class VisitorAbandoned(Event):
    """A visitor left the queue before being served; counted as abandoned."""

    type: Literal["VisitorAbandoned"] = "VisitorAbandoned"
    visitor_id: Identifier
    channel: Channel
    waited_seconds: float = Field(ge=0)


# --- queue manager: offers -------------------------------------------------------------------


class ChatOffered(Event):
    """An incoming chat request: the visitor is reserved for one operator until answered."""

    type: Literal["ChatOffered"] = "ChatOffered"
    offer_id: uuid.UUID
    visitor_id: Identifier
    operator_id: Identifier
    channel: Channel
    waiting_since: UtcDatetime
    expires_at: UtcDatetime


class ChatStarted(Event):
    """A chat began: the operator accepted an offer, picked the visitor from the queue, or the
    visitor accepted the operator's invitation. The session id is the offer's or invitation's id
    (a pick gets a new one)."""

    type: Literal["ChatStarted"] = "ChatStarted"
    session_id: uuid.UUID
    visitor_id: Identifier
    operator_id: Identifier
    channel: Channel
    waited_seconds: float = Field(ge=0)
    origin: Literal["offer", "pick", "invitation"] = "offer"


class VisitorInvited(Event):
    """An operator invited a browsing visitor; a slot of its capacity is held until answered."""

    type: Literal["VisitorInvited"] = "VisitorInvited"
    invitation_id: uuid.UUID
    visitor_id: Identifier
    operator_id: Identifier
    channel: Channel
    expires_at: UtcDatetime


class InvitationDeclined(Event):
    type: Literal["InvitationDeclined"] = "InvitationDeclined"
    invitation_id: uuid.UUID
    visitor_id: Identifier
    operator_id: Identifier


class InvitationExpired(Event):
    type: Literal["InvitationExpired"] = "InvitationExpired"
    invitation_id: uuid.UUID
    visitor_id: Identifier
    operator_id: Identifier


class VisitorBrowsing(Event):
    """A heartbeat from a visitor's widget: the Site Monitor shows who browses where. Published
    when it brings news: another page, title or referrer, or none for a third of the gateway's
    browsing timeout (20 s by default), not on every call of the widget."""

    type: Literal["VisitorBrowsing"] = "VisitorBrowsing"
    visitor_id: Identifier
    page: HttpUrl
    title: str | None = Field(default=None, max_length=300)
    referrer: HttpUrl | None = None


class OfferDeclined(Event):
    type: Literal["OfferDeclined"] = "OfferDeclined"
    offer_id: uuid.UUID
    visitor_id: Identifier
    operator_id: Identifier


class OfferPutBack(Event):
    """The operator put the visitor back; it gets no automatic offer until it asks for the next."""

    type: Literal["OfferPutBack"] = "OfferPutBack"
    offer_id: uuid.UUID
    visitor_id: Identifier
    operator_id: Identifier


class OfferTimedOut(Event):
    """Nobody answered the offer in time; the operator is marked away."""

    type: Literal["OfferTimedOut"] = "OfferTimedOut"
    offer_id: uuid.UUID
    visitor_id: Identifier
    operator_id: Identifier


class OfferWithdrawn(Event):
    """The offer no longer stands: the visitor left, the operator went offline, or its console
    stayed disconnected past the grace period."""

    type: Literal["OfferWithdrawn"] = "OfferWithdrawn"
    offer_id: uuid.UUID
    visitor_id: Identifier
    operator_id: Identifier
    reason: Literal["visitor_left", "operator_offline", "operator_disconnected"]


class CommandRejected(Event):
    """A command could not be carried out; `reason` says why, for the one who sent it."""

    type: Literal["CommandRejected"] = "CommandRejected"
    command_id: uuid.UUID
    command_type: str
    operator_id: Identifier | None = None
    visitor_id: Identifier | None = None
    reason: str = Field(max_length=500)


# --- queue manager: operators ----------------------------------------------------------------


class OperatorPresenceChanged(Event):
    """Online, away or offline: set by the operator, or away after an unanswered offer
    (`offer_timed_out`) or once no console socket stayed open past the grace (`disconnected`)."""

    type: Literal["OperatorPresenceChanged"] = "OperatorPresenceChanged"
    operator_id: Identifier
    presence: Presence
    reason: Literal["operator", "offer_timed_out", "disconnected"] = "operator"


class OperatorConnected(Event):
    """An operator's console socket is open on this gateway replica: sent when the first one
    opens there, and again every refresh interval while one stays open (a claim the queue
    manager trusts for a lease, so the sockets of a replica that crashed stop counting)."""

    type: Literal["OperatorConnected"] = "OperatorConnected"
    operator_id: Identifier
    replica_id: Identifier


class OperatorDisconnected(Event):
    """The operator's last console socket on this gateway replica closed."""

    type: Literal["OperatorDisconnected"] = "OperatorDisconnected"
    operator_id: Identifier
    replica_id: Identifier


class OperatorCapacityChanged(Event):
    """The operator's own maximum number of chats; None falls back to the site-wide maximum."""

    type: Literal["OperatorCapacityChanged"] = "OperatorCapacityChanged"
    operator_id: Identifier
    max_chats: int | None = Field(default=None, ge=1, le=50)


class SiteMaxChatsChanged(Event):
    """The site-wide maximum number of chats per operator, as the queue manager now applies it.

    Also published, unchanged, after a queue manager start (and on AnnounceSiteSettings), so a
    read model always has the value in force, the environment's default included."""

    type: Literal["SiteMaxChatsChanged"] = "SiteMaxChatsChanged"
    max_chats: int = Field(ge=1, le=50, description="The maximum in force for the site.")
    from_default: bool = Field(
        description="True: the site never set its own, the queue manager's default applies."
    )


class OperatorSlotsChanged(Event):
    """What an operator can still take in one channel, as the queue manager just decided it.

    Published in the same decision as whatever moved it (an offer made or answered, a chat
    started or ended, a new maximum, the operator first seen). Held chats still count. Other
    services show these numbers and never recount them: capacity is the queue manager's rule.
    """

    type: Literal["OperatorSlotsChanged"] = "OperatorSlotsChanged"
    operator_id: Identifier
    channel: Channel
    max_slots: int = Field(ge=1, description="Its own maximum, or the site-wide one.")
    used_slots: int = Field(ge=0, description="What it leads (held too) and is offered.")
    free_slots: int = Field(ge=0, description="How many more it may be offered now.")


class NextChatRequested(Event):
    """The operator asked for the next visitor; automatic offers resume for it."""

    type: Literal["NextChatRequested"] = "NextChatRequested"
    operator_id: Identifier
    channel: Channel


class OperatorFreed(Event):
    """An operator has room for more work in a channel (a chat ended, or an offer fell through)."""

    type: Literal["OperatorFreed"] = "OperatorFreed"
    operator_id: Identifier
    channel: Channel
    free_slots: int = Field(ge=1)


# --- session service -------------------------------------------------------------------------


class ChatHeld(Event):
    """The operator put the chat on hold; it still counts against the operator's capacity."""

    type: Literal["ChatHeld"] = "ChatHeld"
    session_id: uuid.UUID
    visitor_id: Identifier
    operator_id: Identifier


class ChatResumed(Event):
    type: Literal["ChatResumed"] = "ChatResumed"
    session_id: uuid.UUID
    visitor_id: Identifier
    operator_id: Identifier


class ChatMessagePosted(Event):
    """A message was appended to a session's transcript under the next sequence number."""

    type: Literal["ChatMessagePosted"] = "ChatMessagePosted"
    session_id: uuid.UUID
    seq: int = Field(ge=1)
    author: Literal["operator", "visitor"]
    client_message_id: ClientMessageId
    text: MessageText
    visitor_id: Identifier
    operator_id: Identifier


class ChatEnded(Event):
    """A session ended; its operator's capacity frees."""

    type: Literal["ChatEnded"] = "ChatEnded"
    session_id: uuid.UUID
    visitor_id: Identifier
    operator_id: Identifier
    channel: Channel
    ended_by: Literal["operator", "visitor", "visitor_gone", "system"]


# --- offline messages ------------------------------------------------------------------------


class MessageLeft(Event):
    """A visitor left an offline message for the Message Queue (published by the gateway)."""

    type: Literal["MessageLeft"] = "MessageLeft"
    offline_message_id: uuid.UUID
    visitor_id: Identifier
    name: str = Field(min_length=1, max_length=200)
    email: str = Field(max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    text: str = Field(min_length=1, max_length=10_000)


class OfflineMessageTaken(Event):
    """Next message: the oldest waiting message went to this operator, and to no other."""

    type: Literal["OfflineMessageTaken"] = "OfflineMessageTaken"
    offline_message_id: uuid.UUID
    operator_id: Identifier
    visitor_id: Identifier
    name: str = Field(min_length=1, max_length=200)
    email: str = Field(max_length=320)
    text: str = Field(min_length=1, max_length=10_000)
    left_at: UtcDatetime


class OfflineMessageReplied(Event):
    """The operator answered; a mail system subscribes to this to deliver the reply."""

    type: Literal["OfflineMessageReplied"] = "OfflineMessageReplied"
    offline_message_id: uuid.UUID
    operator_id: Identifier
    email: str = Field(max_length=320)
    text: str = Field(min_length=1, max_length=10_000)


class OfflineMessageClosed(Event):
    type: Literal["OfflineMessageClosed"] = "OfflineMessageClosed"
    offline_message_id: uuid.UUID
    operator_id: Identifier
