"""Who gets an event on their socket: pure rules, one place."""

from __future__ import annotations

from livechat_shared.contracts import (
    ChatEnded,
    ChatHeld,
    ChatMessagePosted,
    ChatOffered,
    ChatResumed,
    ChatStarted,
    CommandRejected,
    Message,
    OfferDeclined,
    OfferPutBack,
    OfferTimedOut,
    OfferWithdrawn,
    OperatorPresenceChanged,
    VisitorAbandoned,
    VisitorQueued,
    VisitorRequeued,
)

from visitor_gateway.auth import Role

Recipient = tuple[str, Role, str]
"""(site id, role, visitor or operator id)"""


def recipients(message: Message) -> list[Recipient]:
    site = message.site_id
    match message:
        case VisitorQueued() | VisitorRequeued() | VisitorAbandoned():
            return [(site, "visitor", message.visitor_id)]
        case (
            ChatOffered()
            | OfferDeclined()
            | OfferPutBack()
            | OfferTimedOut()
            | OfferWithdrawn()
            | OperatorPresenceChanged()
        ):
            return [(site, "operator", message.operator_id)]
        case ChatStarted() | ChatMessagePosted() | ChatHeld() | ChatResumed() | ChatEnded():
            return [(site, "operator", message.operator_id), (site, "visitor", message.visitor_id)]
        case CommandRejected():
            found: list[Recipient] = []
            if message.operator_id is not None:
                found.append((site, "operator", message.operator_id))
            if message.visitor_id is not None:
                found.append((site, "visitor", message.visitor_id))
            return found
        case _:
            return []
