"""Commands: imperative requests sent to the one service that owns the decision."""

from __future__ import annotations

import uuid
from typing import ClassVar, Literal

from pydantic import Field

from livechat_shared.contracts.envelope import (
    Channel,
    ClientMessageId,
    Identifier,
    Message,
    MessageText,
    Presence,
    UtcDatetime,
)


class Command(Message):
    kind: ClassVar[str] = "command"

    command_id: uuid.UUID = Field(default_factory=uuid.uuid4, description="Unique per command.")

    @property
    def message_id(self) -> uuid.UUID:
        return self.command_id


class SetOperatorPresence(Command):
    type: Literal["SetOperatorPresence"] = "SetOperatorPresence"
    operator_id: Identifier
    presence: Presence


class SetOperatorCapacity(Command):
    """Override the site-wide maximum number of chats for one operator (None: back to the site's)."""

    type: Literal["SetOperatorCapacity"] = "SetOperatorCapacity"
    operator_id: Identifier
    max_chats: int | None = Field(default=None, ge=1, le=50)


class SetSiteMaxChats(Command):
    """A site administrator sets the site-wide maximum number of chats per operator (operators
    with their own maximum keep it)."""

    type: Literal["SetSiteMaxChats"] = "SetSiteMaxChats"
    max_chats: int = Field(ge=1, le=50)


class AnnounceSiteSettings(Command):
    """Publish the site's maximum number of chats and every online operator's slots again, as
    they stand (sent by the queue manager to itself after a start, and by the gateway when the
    read model has not heard of the site's settings yet). Changes nothing."""

    type: Literal["AnnounceSiteSettings"] = "AnnounceSiteSettings"


class AcceptOffer(Command):
    type: Literal["AcceptOffer"] = "AcceptOffer"
    offer_id: uuid.UUID
    operator_id: Identifier


class DeclineOffer(Command):
    type: Literal["DeclineOffer"] = "DeclineOffer"
    offer_id: uuid.UUID
    operator_id: Identifier


class PutBackInQueue(Command):
    type: Literal["PutBackInQueue"] = "PutBackInQueue"
    offer_id: uuid.UUID
    operator_id: Identifier


class RequestNextChat(Command):
    """Next chat / Next call: resume automatic offers and take the longest-waiting visitor."""

    type: Literal["RequestNextChat"] = "RequestNextChat"
    operator_id: Identifier
    channel: Channel = Channel.CHAT


class PickVisitor(Command):
    """Manual pick: the operator takes a specific waiting visitor for a text or voice chat.

    Atomic against automatic offers: it succeeds only while the visitor is waiting, unoffered.
    """

    type: Literal["PickVisitor"] = "PickVisitor"
    operator_id: Identifier
    visitor_id: Identifier
    channel: Channel | None = Field(
        default=None, description="None: the channel the visitor asked for."
    )


class InviteVisitor(Command):
    """Invite a browsing visitor to a chat with this operator (within capacity, no queue)."""

    type: Literal["InviteVisitor"] = "InviteVisitor"
    operator_id: Identifier
    visitor_id: Identifier
    channel: Channel = Channel.CHAT


class AnswerInvitation(Command):
    type: Literal["AnswerInvitation"] = "AnswerInvitation"
    invitation_id: uuid.UUID
    visitor_id: Identifier
    accept: bool


class ExpireInvitation(Command):
    """Sent by the queue manager to itself through a delay queue."""

    type: Literal["ExpireInvitation"] = "ExpireInvitation"
    invitation_id: uuid.UUID


class ExpireOffer(Command):
    """Sent by the queue manager to itself through a delay queue when an offer's time is up."""

    type: Literal["ExpireOffer"] = "ExpireOffer"
    offer_id: uuid.UUID


class CheckOperatorConnection(Command):
    """Sent by the queue manager to itself through a delay queue after an operator's console
    disconnected (or its claim was last renewed): still no socket? Then the operator is away."""

    type: Literal["CheckOperatorConnection"] = "CheckOperatorConnection"
    operator_id: Identifier


# --- session service -----------------------------------------------------------------------


class PostChatMessage(Command):
    """Append a message to a session; the author must be the session's operator or visitor."""

    type: Literal["PostChatMessage"] = "PostChatMessage"
    session_id: uuid.UUID
    author: Literal["operator", "visitor"]
    author_id: Identifier
    client_message_id: ClientMessageId
    text: MessageText


class HoldChat(Command):
    type: Literal["HoldChat"] = "HoldChat"
    session_id: uuid.UUID
    operator_id: Identifier


class ResumeChat(Command):
    type: Literal["ResumeChat"] = "ResumeChat"
    session_id: uuid.UUID
    operator_id: Identifier


class EndChat(Command):
    type: Literal["EndChat"] = "EndChat"
    session_id: uuid.UUID
    by: Literal["operator", "visitor"]
    by_id: Identifier


class EndChatIfVisitorGone(Command):
    """Sent by the session service to itself, a grace period after the visitor disconnected."""

    type: Literal["EndChatIfVisitorGone"] = "EndChatIfVisitorGone"
    visitor_id: Identifier
    disconnected_at: UtcDatetime


# --- offline messages ----------------------------------------------------------------------


class TakeNextMessage(Command):
    """Next message: give this operator the oldest waiting offline message."""

    type: Literal["TakeNextMessage"] = "TakeNextMessage"
    operator_id: Identifier


class ReplyToMessage(Command):
    type: Literal["ReplyToMessage"] = "ReplyToMessage"
    offline_message_id: uuid.UUID
    operator_id: Identifier
    text: str = Field(min_length=1, max_length=10_000)


class CloseMessage(Command):
    type: Literal["CloseMessage"] = "CloseMessage"
    offline_message_id: uuid.UUID
    operator_id: Identifier
