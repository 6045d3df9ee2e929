"""Visitor endpoints: get an identity, ask for a chat or call, talk, leave, read your own session."""

from __future__ import annotations

import uuid
from datetime import timedelta

from fastapi import APIRouter, status
from livechat_shared.contracts import (
    Channel,
    EndChat,
    PostChatMessage,
    VisitorBadge,
    VisitorLeftQueue,
    VisitorWaiting,
)
from livechat_shared.contracts.views import SessionView, TranscriptMessage
from pydantic import BaseModel, Field

from visitor_gateway.api.errors import EVERY_ROUTE, HAS_A_CHAT, LIMITED, SIGNED_IN
from visitor_gateway.api.gateway import AddressLimited, GatewayDep, LimitedVisitorDep, VisitorDep
from visitor_gateway.api.types import Accepted, NewMessage, RequestBody, SitePath
from visitor_gateway.domain.auth import Caller, issue

router = APIRouter(prefix="/v1", tags=["visitors"], responses=EVERY_ROUTE)


class VisitorIdentity(BaseModel):
    visitor_id: str
    token: str = Field(description="Bearer token for /v1/visitor/* and the visitor WebSocket.")
    websocket: str = "/v1/visitor/ws?token=<token>"


class ChatRequest(RequestBody):
    channel: Channel = Channel.CHAT
    badge: VisitorBadge = Field(default_factory=VisitorBadge)


class VisitorSession(BaseModel):
    session: SessionView
    messages: list[TranscriptMessage]


@router.post(
    "/sites/{site_id}/visitors",
    status_code=status.HTTP_201_CREATED,
    dependencies=[AddressLimited],
    responses=LIMITED,
)
async def new_visitor(site_id: SitePath, gateway: GatewayDep) -> VisitorIdentity:
    """A visitor arrives on the site: it gets an id and a token that shows only its own things."""
    caller = Caller(role="visitor", site_id=site_id, subject=f"v-{uuid.uuid4().hex}")
    ttl = timedelta(seconds=gateway.settings.visitor_token_ttl_seconds)
    return VisitorIdentity(
        visitor_id=caller.subject, token=issue(gateway.settings.token_secret, caller, ttl)
    )


@router.post(
    "/visitor/chat-requests", status_code=status.HTTP_202_ACCEPTED, responses=SIGNED_IN | LIMITED
)
async def request_chat(
    body: ChatRequest, visitor: LimitedVisitorDep, gateway: GatewayDep
) -> Accepted:
    """Ask for a chat or a call: the visitor waits in the queue of that channel."""
    await gateway.publisher.publish(
        VisitorWaiting(
            site_id=visitor.site_id,
            visitor_id=visitor.subject,
            channel=body.channel,
            badge=body.badge,
        )
    )
    return Accepted(detail=f"waiting for an operator ({body.channel.value})")


@router.delete("/visitor/queue", status_code=status.HTTP_202_ACCEPTED, responses=SIGNED_IN)
async def leave_queue(visitor: VisitorDep, gateway: GatewayDep) -> Accepted:
    await gateway.publisher.publish(
        VisitorLeftQueue(site_id=visitor.site_id, visitor_id=visitor.subject)
    )
    return Accepted(detail="left the queue")


@router.get("/visitor/session", responses=SIGNED_IN | HAS_A_CHAT)
async def my_session(visitor: VisitorDep, gateway: GatewayDep) -> VisitorSession:
    """The visitor's current (or latest) chat and its messages, oldest first."""
    session = await gateway.current_session(visitor)
    transcript = await gateway.sessions.transcript(visitor.site_id, session.session_id, 0)
    return VisitorSession(session=session, messages=transcript.messages)


@router.post(
    "/visitor/sessions/{session_id}/messages",
    status_code=status.HTTP_202_ACCEPTED,
    responses=SIGNED_IN,
)
async def send_message(
    session_id: uuid.UUID, body: NewMessage, visitor: VisitorDep, gateway: GatewayDep
) -> Accepted:
    """Send a message in the chat named by ChatStarted's session_id. The outcome arrives on
    the socket: ChatMessagePosted, or CommandRejected with the reason (not a chat of yours,
    the chat has ended)."""
    await gateway.publisher.publish(
        PostChatMessage(
            site_id=visitor.site_id,
            session_id=session_id,
            author="visitor",
            author_id=visitor.subject,
            client_message_id=body.client_message_id,
            text=body.text,
        )
    )
    return Accepted(detail="message sent")


@router.post(
    "/visitor/sessions/{session_id}/end",
    status_code=status.HTTP_202_ACCEPTED,
    responses=SIGNED_IN,
)
async def end_chat(session_id: uuid.UUID, visitor: VisitorDep, gateway: GatewayDep) -> Accepted:
    """End the chat; ChatEnded, or CommandRejected with the reason, arrives on the socket."""
    await gateway.publisher.publish(
        EndChat(site_id=visitor.site_id, session_id=session_id, by="visitor", by_id=visitor.subject)
    )
    return Accepted(detail="ending the chat")
