"""Who the caller is, as its token says: the console shows the settings page only to a site
administrator, without decoding the token itself."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from visitor_gateway.api.errors import EVERY_ROUTE, SIGNED_IN
from visitor_gateway.api.gateway import OperatorDep

router = APIRouter(prefix="/v1/operator", tags=["operators"], responses=EVERY_ROUTE | SIGNED_IN)


class OperatorIdentity(BaseModel):
    site_id: str
    operator_id: str
    role: Literal["operator", "admin"] = Field(
        description="admin: a site administrator, who may also change the site's settings."
    )


@router.get("/me")
async def who_am_i(op: OperatorDep) -> OperatorIdentity:
    """The caller's site, operator id and role, from its token."""
    return OperatorIdentity(
        site_id=op.site_id, operator_id=op.subject, role="admin" if op.admin else "operator"
    )
