"""The session service's internal API: sessions, transcripts, an operator's sessions and messages."""

from __future__ import annotations

import uuid

from livechat_shared.contracts.views import MessagePage, SessionList, SessionView, Transcript

from visitor_gateway.adapters.internal_api import InternalApi, ServiceUnavailable, path


class SessionServiceUnavailable(ServiceUnavailable):
    """The session service did not answer."""


class SessionServiceClient(InternalApi):
    unavailable = SessionServiceUnavailable

    async def session(self, site_id: str, session_id: uuid.UUID) -> SessionView | None:
        return await self._get(path("v1", "sites", site_id, "sessions", session_id), SessionView)

    async def visitor_session(self, site_id: str, visitor_id: str) -> SessionView | None:
        return await self._get(
            path("v1", "sites", site_id, "visitors", visitor_id, "session"), SessionView
        )

    async def transcript(self, site_id: str, session_id: uuid.UUID, after_seq: int) -> Transcript:
        found = await self._get(
            path("v1", "sites", site_id, "sessions", session_id, "messages"),
            Transcript,
            after_seq=after_seq,
            limit=500,
        )
        return found or Transcript(session_id=session_id, messages=[])

    async def operator_sessions(self, site_id: str, operator_id: str) -> SessionList:
        found = await self._get(
            path("v1", "sites", site_id, "operators", operator_id, "sessions"), SessionList
        )
        return found or SessionList(sessions=[])

    async def operator_messages(
        self, site_id: str, operator_id: str, page: int, page_size: int
    ) -> MessagePage:
        found = await self._get(
            path("v1", "sites", site_id, "operators", operator_id, "messages"),
            MessagePage,
            page=page,
            page_size=page_size,
        )
        return found or MessagePage(page=page, page_size=page_size, total=0, messages=[])
