"""Every message type by name, and one parser that turns bytes into the right contract."""

from __future__ import annotations

from typing import Annotated, Any, Union

from pydantic import Field, TypeAdapter, ValidationError

from livechat_shared.contracts import commands as c
from livechat_shared.contracts import events as e
from livechat_shared.contracts.envelope import Message

EVENT_TYPES: tuple[type[e.Event], ...] = (
    # The catalogue: every event, listed once (the parser, the docs and the projector follow).
    e.VisitorWaiting,
    e.VisitorLeftQueue,
    e.VisitorDisconnected,
    e.VisitorReconnected,
    e.VisitorQueued,
    e.VisitorRequeued,
    e.QueuePositionsChanged,
    e.VisitorAbandoned,
    e.ChatOffered,
    e.ChatStarted,
    e.VisitorInvited,
    e.InvitationDeclined,
    e.InvitationExpired,
    e.VisitorBrowsing,
    e.OfferDeclined,
    e.OfferPutBack,
    e.OfferTimedOut,
    e.OfferWithdrawn,
    e.CommandRejected,
    e.OperatorPresenceChanged,
    e.OperatorConnected,
    e.OperatorDisconnected,
    e.OperatorCapacityChanged,
    e.SiteMaxChatsChanged,
    e.OperatorSlotsChanged,
    e.NextChatRequested,
    e.OperatorFreed,
    e.ChatHeld,
    e.ChatResumed,
    e.ChatMessagePosted,
    e.ChatEnded,
    e.MessageLeft,
    e.OfflineMessageTaken,
    e.OfflineMessageReplied,
    e.OfflineMessageClosed,
)
COMMAND_TYPES: tuple[type[c.Command], ...] = (
    c.SetOperatorPresence,
    c.SetOperatorCapacity,
    c.SetSiteMaxChats,
    c.AnnounceSiteSettings,
    c.AcceptOffer,
    c.DeclineOffer,
    c.PutBackInQueue,
    c.RequestNextChat,
    c.PickVisitor,
    c.InviteVisitor,
    c.AnswerInvitation,
    c.ExpireInvitation,
    c.ExpireOffer,
    c.CheckOperatorConnection,
    c.PostChatMessage,
    c.HoldChat,
    c.ResumeChat,
    c.EndChat,
    c.EndChatIfVisitorGone,
    c.TakeNextMessage,
    c.ReplyToMessage,
    c.CloseMessage,
)
MESSAGE_TYPES: dict[str, type[Message]] = {t.type_name(): t for t in (*EVENT_TYPES, *COMMAND_TYPES)}

AnyMessage: Any = Annotated[
    Union[(*EVENT_TYPES, *COMMAND_TYPES)],  # built from the one list above
    Field(discriminator="type"),
]
"""Any message of the catalogue, told apart by its `type`: derived from EVENT_TYPES and
COMMAND_TYPES, so a new message is listed once."""

_ADAPTER: TypeAdapter[Any] = TypeAdapter(AnyMessage)


class UnknownMessage(ValueError):
    """The bytes are not a message this system knows; the reason says what is wrong."""


def parse_message(body: bytes | str | dict[str, Any]) -> Message:
    """Validate a message of any known type, or raise UnknownMessage with a readable reason."""
    try:
        if isinstance(body, dict):
            message = _ADAPTER.validate_python(body)
        else:
            message = _ADAPTER.validate_json(body)
    except ValidationError as error:
        raise UnknownMessage(_describe(error)) from error
    except (ValueError, ArithmeticError, TypeError, RecursionError) as error:
        # A validator that fails outside pydantic's own errors: a year-1 timestamp shifted
        # out of range raises OverflowError while converting to UTC.
        raise UnknownMessage(f"message: {type(error).__name__}: {error}") from error
    assert isinstance(message, Message)
    return message


def _describe(error: ValidationError) -> str:
    parts = []
    for detail in error.errors(include_url=False)[:5]:
        where = ".".join(str(p) for p in detail["loc"]) or "message"
        parts.append(f"{where}: {detail['msg']}")
    return "; ".join(parts)
