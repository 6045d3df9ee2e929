"""The Message Queue at the edge: visitors leave offline messages, operators take Next message."""

from __future__ import annotations

import contextlib
import json
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, status
from livechat_shared.contracts import (
    CloseMessage,
    MessageLeft,
    ReplyToMessage,
    TakeNextMessage,
)
from livechat_shared.contracts.views import MessageQueue
from pydantic import BaseModel, Field

from visitor_gateway.adapters.internal_api import path
from visitor_gateway.adapters.summary_projector import SummaryProjectorUnavailable
from visitor_gateway.api.errors import EVERY_ROUTE, LIMITED, SIGNED_IN
from visitor_gateway.api.gateway import GatewayDep, LimitedVisitorDep, OperatorDep
from visitor_gateway.api.types import Accepted, RequestBody, SitePath

router = APIRouter(prefix="/v1", tags=["message queue"], responses=EVERY_ROUTE)


class OfflineMessage(RequestBody):
    name: str = Field(min_length=1, max_length=200)
    email: str = Field(max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    text: str = Field(min_length=1, max_length=10_000)


class MessageReceived(BaseModel):
    offline_message_id: uuid.UUID
    detail: str = "message left; an operator will answer by email"


class Reply(RequestBody):
    text: str = Field(min_length=1, max_length=10_000)


class WidgetConfig(BaseModel):
    offer_message_after_seconds: int = Field(
        description="After waiting this long, the widget offers to leave a message instead."
    )
    operators_online: int | None = Field(
        description="Operators online now; 0: offer a message at once. None: not known now."
    )


@router.get("/sites/{site_id}/widget", tags=["visitors"])
async def widget_config(site_id: SitePath, gateway: GatewayDep) -> WidgetConfig:
    """What the widget needs to decide between a chat request and an offline message."""
    online: int | None = None
    with contextlib.suppress(SummaryProjectorUnavailable, ValueError, KeyError, TypeError):
        status_code, body = await gateway.summary.read(path("v1", "sites", site_id, "summary"))
        if status_code == 200:
            online = int(json.loads(body)["operators"]["online"])
    return WidgetConfig(
        offer_message_after_seconds=gateway.settings.offer_message_after_seconds,
        operators_online=online,
    )


@router.post(
    "/visitor/offline-messages",
    status_code=status.HTTP_202_ACCEPTED,
    tags=["visitors"],
    responses=SIGNED_IN | LIMITED,
)
async def leave_message(
    body: OfflineMessage, visitor: LimitedVisitorDep, gateway: GatewayDep
) -> MessageReceived:
    """Leave a message when nobody is online, or instead of waiting."""
    message_id = uuid.uuid4()
    await gateway.publisher.publish(
        MessageLeft(
            site_id=visitor.site_id,
            offline_message_id=message_id,
            visitor_id=visitor.subject,
            name=body.name,
            email=body.email,
            text=body.text,
        )
    )
    return MessageReceived(offline_message_id=message_id)


Status = Literal["waiting", "taken", "replied", "closed", "all"]


@router.get("/operator/offline-messages", responses=SIGNED_IN)
async def message_queue(
    op: OperatorDep,
    gateway: GatewayDep,
    status: Status = "waiting",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> MessageQueue:
    """The Message Queue, oldest first."""
    return await gateway.offline_messages.queue(op.site_id, status, limit)


@router.post(
    "/operator/offline-messages/next", status_code=status.HTTP_202_ACCEPTED, responses=SIGNED_IN
)
async def next_message(op: OperatorDep, gateway: GatewayDep) -> Accepted:
    """Next message: the oldest waiting message arrives on the socket as OfflineMessageTaken
    (or CommandRejected when none waits). No two operators get the same message."""
    await gateway.publisher.publish(TakeNextMessage(site_id=op.site_id, operator_id=op.subject))
    return Accepted(detail="next message requested")


@router.post(
    "/operator/offline-messages/{offline_message_id}/reply", status_code=202, responses=SIGNED_IN
)
async def reply(
    offline_message_id: uuid.UUID, body: Reply, op: OperatorDep, gateway: GatewayDep
) -> Accepted:
    await gateway.publisher.publish(
        ReplyToMessage(
            site_id=op.site_id,
            offline_message_id=offline_message_id,
            operator_id=op.subject,
            text=body.text,
        )
    )
    return Accepted(detail="reply sent")


@router.post(
    "/operator/offline-messages/{offline_message_id}/close", status_code=202, responses=SIGNED_IN
)
async def close(offline_message_id: uuid.UUID, op: OperatorDep, gateway: GatewayDep) -> Accepted:
    await gateway.publisher.publish(
        CloseMessage(
            site_id=op.site_id, offline_message_id=offline_message_id, operator_id=op.subject
        )
    )
    return Accepted(detail="close sent")
