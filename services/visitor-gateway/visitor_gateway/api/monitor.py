"""Site Monitor and invitations: operators see who browses and invite them to a chat."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter, status
from livechat_shared.contracts import AnswerInvitation, Channel, InviteVisitor, VisitorBrowsing
from livechat_shared.contracts.envelope import Identifier
from pydantic import BaseModel, Field, HttpUrl

from visitor_gateway.api.errors import EVERY_ROUTE, LIMITED, SIGNED_IN
from visitor_gateway.api.gateway import GatewayDep, LimitedVisitorDep, OperatorDep, VisitorDep
from visitor_gateway.api.types import Accepted, RequestBody
from visitor_gateway.domain.site_monitor import monitor_view

router = APIRouter(prefix="/v1", tags=["site monitor"], responses=EVERY_ROUTE)


class Heartbeat(RequestBody):
    page: HttpUrl
    title: str | None = Field(default=None, max_length=300)
    referrer: HttpUrl | None = None


class BrowsingVisitor(BaseModel):
    visitor_id: str
    page: str
    title: str | None
    referrer: str | None
    time_on_site_seconds: float
    visits: int
    pages_viewed: int
    last_seen: datetime


class SiteMonitorView(BaseModel):
    visitors: list[BrowsingVisitor] = Field(
        description="The first VISITOR_GATEWAY_SITE_MONITOR_SHOWN visitors browsing now, "
        "longest on the site first."
    )
    browsing: int = Field(description="How many visitors browse the site now, in all.")


class Invitation(RequestBody):
    visitor_id: Identifier
    channel: Channel = Channel.CHAT


@router.post(
    "/visitor/heartbeat",
    status_code=status.HTTP_202_ACCEPTED,
    tags=["visitors"],
    responses=SIGNED_IN | LIMITED,
)
async def heartbeat(body: Heartbeat, visitor: LimitedVisitorDep, gateway: GatewayDep) -> Accepted:
    """The widget calls this every few seconds while the visitor browses; a heartbeat goes out
    only when it brings news (another page, or the first for a while), since every replica
    receives each one."""
    beat = VisitorBrowsing(
        site_id=visitor.site_id,
        visitor_id=visitor.subject,
        page=body.page,
        title=body.title,
        referrer=body.referrer,
    )
    if gateway.monitor.is_news(beat):
        await gateway.publisher.publish(beat)
    return Accepted(detail="seen")


@router.get("/operator/site-monitor", responses=SIGNED_IN)
async def site_monitor(op: OperatorDep, gateway: GatewayDep) -> SiteMonitorView:
    """Visitors browsing the site now (a heartbeat within the browsing timeout), at most
    VISITOR_GATEWAY_SITE_MONITOR_SHOWN of them, and how many browse in all."""
    now = datetime.now(UTC)
    browsing = gateway.monitor.browsing(op.site_id, now)
    return SiteMonitorView.model_validate(
        monitor_view(browsing, now, gateway.settings.site_monitor_shown)
    )


@router.post("/operator/invitations", status_code=status.HTTP_202_ACCEPTED, responses=SIGNED_IN)
async def invite(body: Invitation, op: OperatorDep, gateway: GatewayDep) -> Accepted:
    """Invite a browsing visitor; its widget gets VisitorInvited, the answer comes back here."""
    await gateway.publisher.publish(
        InviteVisitor(
            site_id=op.site_id,
            operator_id=op.subject,
            visitor_id=body.visitor_id,
            channel=body.channel,
        )
    )
    return Accepted(detail="invitation sent")


@router.post(
    "/visitor/invitations/{invitation_id}/{answer}",
    status_code=status.HTTP_202_ACCEPTED,
    tags=["visitors"],
    responses=SIGNED_IN,
)
async def answer_invitation(
    invitation_id: uuid.UUID,
    answer: Literal["accept", "decline"],
    visitor: VisitorDep,
    gateway: GatewayDep,
) -> Accepted:
    await gateway.publisher.publish(
        AnswerInvitation(
            site_id=visitor.site_id,
            invitation_id=invitation_id,
            visitor_id=visitor.subject,
            accept=answer == "accept",
        )
    )
    return Accepted(detail=f"{answer} sent")
