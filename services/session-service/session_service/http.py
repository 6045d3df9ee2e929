"""The internal read API (gateway → session service): parse the request, query, answer or 404.

Every route requires the shared secret in `X-Internal-Token`; visitor and operator
authentication is the gateway's job, this API only looks things up.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Path, Query, status
from livechat_shared.contracts.envelope import Identifier, SiteId
from livechat_shared.contracts.views import MessagePage, SessionList, SessionView, Transcript
from livechat_shared.runtime.internal_api import internal_token_guard

from session_service.queries import SessionQueries

# The contracts' one definition of an id: no slashes, no leading dot, ASCII only.
SiteIdPath = Annotated[SiteId, Path()]
OperatorId = Annotated[Identifier, Path()]
VisitorId = Annotated[Identifier, Path()]
SessionId = Annotated[uuid.UUID, Path()]

V = TypeVar("V")

_UNAUTHORIZED: dict[int | str, dict[str, Any]] = {
    status.HTTP_401_UNAUTHORIZED: {"description": "Missing or wrong X-Internal-Token"}
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    status.HTTP_404_NOT_FOUND: {"description": "No such session on this site"}
}


def build_read_api(queries: SessionQueries, internal_token: str) -> APIRouter:
    router = APIRouter(
        prefix="/v1/sites/{site_id}",
        tags=["sessions"],
        dependencies=[Depends(internal_token_guard(internal_token))],
        responses=_UNAUTHORIZED,
    )

    @router.get("/sessions/{session_id}", responses=_NOT_FOUND)
    async def get_session(site_id: SiteIdPath, session_id: SessionId) -> SessionView:
        """One session: who is in it, its status and its newest sequence number."""
        return _found(
            _of_site(site_id, await queries.session(site_id, session_id)),
            f"no session {session_id} on this site",
        )

    @router.get("/sessions/{session_id}/messages", responses=_NOT_FOUND)
    async def get_transcript(
        site_id: SiteIdPath,
        session_id: SessionId,
        after_seq: Annotated[int, Query(ge=0, le=2**62)] = 0,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> Transcript:
        """The session's messages with seq > after_seq, oldest first."""
        found = await queries.transcript(site_id, session_id, after_seq, limit)
        return _found(found, f"no session {session_id} on this site")

    @router.get("/operators/{operator_id}/sessions")
    async def get_operator_sessions(site_id: SiteIdPath, operator_id: OperatorId) -> SessionList:
        """My Communication: the operator's active and held sessions, oldest first."""
        found = await queries.operator_sessions(site_id, operator_id)
        return SessionList(sessions=[s for s in found.sessions if s.site_id == site_id])

    @router.get("/operators/{operator_id}/messages")
    async def get_operator_messages(
        site_id: SiteIdPath,
        operator_id: OperatorId,
        page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
        page_size: Annotated[int, Query(ge=1, le=200)] = 50,
    ) -> MessagePage:
        """Chat overview: messages of the sessions the operator leads now, newest first."""
        return await queries.operator_messages(site_id, operator_id, page, page_size)

    @router.get("/visitors/{visitor_id}/session", responses=_NOT_FOUND)
    async def get_visitor_session(site_id: SiteIdPath, visitor_id: VisitorId) -> SessionView:
        """The visitor's current session, else its latest."""
        return _found(
            _of_site(site_id, await queries.visitor_session(site_id, visitor_id)),
            f"visitor {visitor_id} has no session on this site",
        )

    return router


def _of_site(site_id: str, session: SessionView | None) -> SessionView | None:
    """What a query found, if it is of the site asked about: a store that ignored the site (a
    bug, a changed index) must not hand one site's chats to another."""
    return session if session is not None and session.site_id == site_id else None


def _found(value: V | None, reason: str) -> V:
    if value is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, reason)
    return value
