"""Operator endpoints: presence, answering offers, Next, talking, hold/resume/end, and reads."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, status
from livechat_shared.contracts import (
    AcceptOffer,
    Channel,
    DeclineOffer,
    EndChat,
    HoldChat,
    PickVisitor,
    PostChatMessage,
    Presence,
    PutBackInQueue,
    RequestNextChat,
    ResumeChat,
    SetOperatorPresence,
)
from livechat_shared.contracts.envelope import Identifier
from livechat_shared.contracts.views import MessagePage, SessionList

from visitor_gateway.api.errors import EVERY_ROUTE, SIGNED_IN
from visitor_gateway.api.gateway import GatewayDep, OperatorDep
from visitor_gateway.api.types import Accepted, NewMessage, RequestBody

router = APIRouter(prefix="/v1/operator", tags=["operators"], responses=EVERY_ROUTE | SIGNED_IN)


class PresenceChange(RequestBody):
    presence: Presence


class NextRequest(RequestBody):
    channel: Channel = Channel.CHAT


@router.put("/presence", status_code=status.HTTP_202_ACCEPTED)
async def set_presence(body: PresenceChange, op: OperatorDep, gateway: GatewayDep) -> Accepted:
    await gateway.publisher.publish(
        SetOperatorPresence(site_id=op.site_id, operator_id=op.subject, presence=body.presence)
    )
    return Accepted(detail=f"presence {body.presence.value}")


Answer = Literal["accept", "decline", "put-back"]
_ANSWERS = {"accept": AcceptOffer, "decline": DeclineOffer, "put-back": PutBackInQueue}


@router.post("/offers/{offer_id}/{answer}", status_code=status.HTTP_202_ACCEPTED)
async def answer_offer(
    offer_id: uuid.UUID, answer: Answer, op: OperatorDep, gateway: GatewayDep
) -> Accepted:
    """Answer an incoming chat request; the outcome arrives on the operator's socket
    (ChatStarted, VisitorRequeued or CommandRejected with the reason)."""
    command = _ANSWERS[answer](site_id=op.site_id, offer_id=offer_id, operator_id=op.subject)
    await gateway.publisher.publish(command)
    return Accepted(detail=f"{answer} sent")


@router.post("/next", status_code=status.HTTP_202_ACCEPTED)
async def next_visitor(body: NextRequest, op: OperatorDep, gateway: GatewayDep) -> Accepted:
    """Next chat / Next call: the longest-waiting visitor is offered, and automatic offers resume."""
    await gateway.publisher.publish(
        RequestNextChat(site_id=op.site_id, operator_id=op.subject, channel=body.channel)
    )
    return Accepted(detail=f"next {body.channel.value} requested")


class Pick(RequestBody):
    visitor_id: Identifier
    channel: Channel | None = None


@router.post("/pick", status_code=status.HTTP_202_ACCEPTED)
async def pick_visitor(body: Pick, op: OperatorDep, gateway: GatewayDep) -> Accepted:
    """Take a specific waiting visitor for a text or voice chat. Exactly one operator gets it:
    the outcome (ChatStarted, or CommandRejected with the reason) arrives on the socket."""
    await gateway.publisher.publish(
        PickVisitor(
            site_id=op.site_id,
            operator_id=op.subject,
            visitor_id=body.visitor_id,
            channel=body.channel,
        )
    )
    return Accepted(detail="pick sent")


@router.post("/sessions/{session_id}/messages", status_code=status.HTTP_202_ACCEPTED)
async def send_message(
    session_id: uuid.UUID, body: NewMessage, op: OperatorDep, gateway: GatewayDep
) -> Accepted:
    """Send a message; ChatMessagePosted, or CommandRejected with the reason (not a chat of
    yours, the chat has ended), arrives on the socket."""
    await gateway.publisher.publish(
        PostChatMessage(
            site_id=op.site_id,
            session_id=session_id,
            author="operator",
            author_id=op.subject,
            client_message_id=body.client_message_id,
            text=body.text,
        )
    )
    return Accepted(detail="message sent")


Step = Literal["hold", "resume", "end"]


@router.post("/sessions/{session_id}/{step}", status_code=status.HTTP_202_ACCEPTED)
async def change_session(
    session_id: uuid.UUID, step: Step, op: OperatorDep, gateway: GatewayDep
) -> Accepted:
    """Put a chat on hold (it still counts against capacity), resume it, or end it. The
    outcome arrives on the socket: ChatHeld, ChatResumed or ChatEnded, or CommandRejected with
    the reason (not a chat of yours, the chat has ended, not on hold)."""
    ids = {"site_id": op.site_id, "session_id": session_id}
    command = (
        HoldChat(**ids, operator_id=op.subject)
        if step == "hold"
        else ResumeChat(**ids, operator_id=op.subject)
        if step == "resume"
        else EndChat(**ids, by="operator", by_id=op.subject)
    )
    await gateway.publisher.publish(command)
    return Accepted(detail=f"{step} sent")


@router.get("/sessions")
async def my_communication(op: OperatorDep, gateway: GatewayDep) -> SessionList:
    """My Communication: the chats this operator leads now (active and on hold)."""
    return await gateway.sessions.operator_sessions(op.site_id, op.subject)


@router.get("/messages")
async def chat_overview(
    op: OperatorDep,
    gateway: GatewayDep,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> MessagePage:
    """Chat overview: the messages of every chat this operator leads, newest first."""
    return await gateway.sessions.operator_messages(op.site_id, op.subject, page, page_size)
