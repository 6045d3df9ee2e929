"""The internal read API of the Message Queue: parse the request, query, answer or 404.

Every route requires the shared secret in `X-Internal-Token`; operator authentication is the
gateway's job, this API only looks things up.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from fastapi import status as http_status
from livechat_shared.contracts.envelope import SiteId
from livechat_shared.contracts.views import MessageQueue, OfflineMessageView
from livechat_shared.runtime.internal_api import internal_token_guard

from offline_messages.queries import MessageQueueQueries, StatusFilter

# The contracts' one definition of a site id: no slashes, no dots, ASCII only.
SiteIdPath = Annotated[SiteId, Path()]

_UNAUTHORIZED: dict[int | str, dict[str, Any]] = {
    http_status.HTTP_401_UNAUTHORIZED: {"description": "Missing or wrong X-Internal-Token"}
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    http_status.HTTP_404_NOT_FOUND: {"description": "No such offline message on this site"}
}


def build_read_api(queries: MessageQueueQueries, internal_token: str) -> APIRouter:
    router = APIRouter(
        prefix="/v1/sites/{site_id}/messages",
        tags=["offline messages"],
        dependencies=[Depends(internal_token_guard(internal_token))],
        responses=_UNAUTHORIZED,
    )

    @router.get("")
    async def get_message_queue(
        site_id: SiteIdPath,
        status: StatusFilter = "waiting",
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> MessageQueue:
        """The Message Queue: the site's offline messages in one status (or all), oldest first."""
        found = await queries.queue(site_id, status, limit)
        # only the site asked about, whatever the store did with the filter
        return MessageQueue(messages=[m for m in found.messages if m.site_id == site_id])

    @router.get("/{offline_message_id}", responses=_NOT_FOUND)
    async def get_offline_message(
        site_id: SiteIdPath, offline_message_id: uuid.UUID
    ) -> OfflineMessageView:
        """One offline message: what the visitor left, its status, who took it, the reply."""
        found = await queries.message(site_id, offline_message_id)
        if found is None or found.site_id != site_id:
            raise HTTPException(
                http_status.HTTP_404_NOT_FOUND,
                f"no offline message {offline_message_id} on this site",
            )
        return found

    return router
