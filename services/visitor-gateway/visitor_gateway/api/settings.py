"""The maximum number of chats: an operator reads its own; a site administrator reads and sets
the site's and each operator's own.

Changes are commands to the queue manager (202): they show up through its events, in the
summary and here. Reads come from the summary projector's read model of those events.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

from fastapi import APIRouter, HTTPException, Path, status
from livechat_shared.contracts import AnnounceSiteSettings, SetOperatorCapacity, SetSiteMaxChats
from livechat_shared.contracts.envelope import Identifier
from livechat_shared.contracts.views import ChatLimitView, SiteSettingsView
from pydantic import Field

from visitor_gateway.api.errors import EVERY_ROUTE, SIGNED_IN, Responses
from visitor_gateway.api.gateway import AdminDep, Gateway, GatewayDep, OperatorDep
from visitor_gateway.api.types import Accepted, RequestBody

ADMIN_ONLY: Responses = {
    403: {
        "model": SIGNED_IN[403]["model"],
        "description": "A valid token that is not a site administrator's (role `admin`).",
    }
}
router = APIRouter(tags=["settings"], responses=EVERY_ROUTE | SIGNED_IN)

MaxChats = Annotated[int, Field(ge=1, le=50, description="Chats per operator, 1 to 50.")]
OperatorIdPath = Annotated[Identifier, Path(description="The operator's id.")]

ANNOUNCE_WAIT_SECONDS = 3.0
"""How long a read waits for the queue manager to announce a site's settings the read model has
not heard of yet (a site with no event since the upgrade), before a 503 says to retry."""
_POLL_SECONDS = 0.1

T = TypeVar("T")


class SiteMaxChats(RequestBody):
    max_chats: MaxChats


class OperatorMaxChats(RequestBody):
    max_chats: MaxChats | None = Field(
        description="The operator's own maximum; null: back to the site's."
    )


@router.get("/v1/operator/chat-limit")
async def my_chat_limit(op: OperatorDep, gateway: GatewayDep) -> ChatLimitView:
    """The caller's maximum number of chats: the site's, its own (if any), and the one applied."""
    found = await _announced(
        gateway, op.site_id, lambda: gateway.summary.chat_limit(op.site_id, op.subject)
    )
    return ChatLimitView(
        site_max_chats=found.site_max_chats,
        operator_max_chats=found.operator_max_chats,
        effective_max_chats=found.effective_max_chats,
    )


@router.get("/v1/admin/settings", responses=ADMIN_ONLY)
async def site_settings(admin: AdminDep, gateway: GatewayDep) -> SiteSettingsView:
    """The site's maximum number of chats (`from_default`: never set, the default applies) and
    every operator's own maximum (null: the site's)."""
    return await _announced(
        gateway, admin.site_id, lambda: gateway.summary.site_settings(admin.site_id)
    )


@router.put(
    "/v1/admin/settings/max-chats", status_code=status.HTTP_202_ACCEPTED, responses=ADMIN_ONLY
)
async def set_site_max_chats(body: SiteMaxChats, admin: AdminDep, gateway: GatewayDep) -> Accepted:
    """Set the site-wide maximum number of chats. Raising it offers waiting visitors at once to
    operators who gained room; lowering it ends no chat (no new offers until below it)."""
    await gateway.publisher.publish(
        SetSiteMaxChats(site_id=admin.site_id, max_chats=body.max_chats)
    )
    return Accepted(detail=f"site maximum of {body.max_chats} chats sent")


@router.put(
    "/v1/admin/operators/{operator_id}/max-chats",
    status_code=status.HTTP_202_ACCEPTED,
    responses=ADMIN_ONLY,
)
async def set_operator_max_chats(
    operator_id: OperatorIdPath, body: OperatorMaxChats, admin: AdminDep, gateway: GatewayDep
) -> Accepted:
    """Set one operator's own maximum number of chats, or clear it (null: the site's applies)."""
    await gateway.publisher.publish(
        SetOperatorCapacity(
            site_id=admin.site_id, operator_id=operator_id, max_chats=body.max_chats
        )
    )
    shown = "the site's" if body.max_chats is None else str(body.max_chats)
    return Accepted(detail=f"maximum of {shown} chats for {operator_id} sent")


async def _announced(gateway: Gateway, site_id: str, read: Callable[[], Awaitable[T | None]]) -> T:
    """What `read` finds; if the read model has not heard of the site's settings, ask the queue
    manager to announce them and read again for a moment (then 503: retry)."""
    found = await read()
    if found is not None:
        return found
    await gateway.publisher.publish(AnnounceSiteSettings(site_id=site_id))
    for _ in range(round(ANNOUNCE_WAIT_SECONDS / _POLL_SECONDS)):
        await asyncio.sleep(_POLL_SECONDS)
        found = await read()
        if found is not None:
            return found
    raise HTTPException(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        "the site's settings are not known yet, retry shortly",
        headers={"Retry-After": "1"},
    )
