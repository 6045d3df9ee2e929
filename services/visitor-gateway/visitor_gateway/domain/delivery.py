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
    InvitationDeclined,
    InvitationExpired,
    Message,
    OfferDeclined,
    OfferPutBack,
    OfferTimedOut,
    OfferWithdrawn,
    OfflineMessageTaken,
    OperatorPresenceChanged,
    QueuePositionsChanged,
    VisitorAbandoned,
    VisitorInvited,
    VisitorQueued,
    VisitorRequeued,
)

from visitor_gateway.domain.auth import Role

Recipient = tuple[str, Role, str]
"""(site id, role, visitor or operator id)"""


def position_frames(update: QueuePositionsChanged) -> list[tuple[Recipient, dict[str, object]]]:
    """Each listed visitor's own place in the queue and its estimated wait."""
    return [
        ((update.site_id, "visitor", visitor_id), position_frame(update, index))
        for index, visitor_id in enumerate(update.waiting)
    ]


def position_frame(update: QueuePositionsChanged, index: int) -> dict[str, object]:
    """The place of the visitor at `index` of the update's list (0: the next one served)."""
    eta = None
    if update.seconds_per_position is not None:
        eta = round((index + 1) * update.seconds_per_position, 1)
    return {
        "type": "QueuePosition",
        "channel": update.channel.value,
        "position": index + 1,
        "total_waiting": update.total_waiting,
        "estimated_wait_seconds": eta,
        "as_of": update.occurred_at.isoformat(),
    }


REREAD: dict[str, list[str]] = {
    "operator": [
        "GET /v1/operator/sessions",
        "GET /v1/operator/summary/me",
        "GET /v1/operator/queue",
    ],
    "visitor": ["GET /v1/visitor/session"],
}
"""What a client re-reads after a Resync: the state its missed events would have changed."""


def resync_frame(who: Recipient, reason: str) -> dict[str, object]:
    """Events for this socket may have been lost (the gateway's consumer reconnected): what to
    re-read. A waiting visitor also gets its latest known place right after this frame."""
    return {"type": "Resync", "reason": reason, "reread": REREAD[who[1]]}


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
            | OfflineMessageTaken()
        ):
            return [(site, "operator", message.operator_id)]
        case (
            ChatStarted()
            | ChatMessagePosted()
            | ChatHeld()
            | ChatResumed()
            | ChatEnded()
            | VisitorInvited()
            | InvitationDeclined()
            | InvitationExpired()
        ):
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
