"""Reads from the other services' internal APIs: sessions and transcripts, the Message Queue."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypeVar
from urllib.parse import quote

import httpx
from livechat_shared.contracts.envelope import Identifier
from livechat_shared.contracts.views import (
    MessagePage,
    MessageQueue,
    SessionList,
    SessionView,
    Transcript,
)
from pydantic import BaseModel, TypeAdapter

V = TypeVar("V", bound=BaseModel)
_SEGMENT: TypeAdapter[str] = TypeAdapter(Identifier)


def path(*segments: str | uuid.UUID) -> str:
    """An internal API path from its segments, each one checked to be an id and encoded.

    The ids come from tokens (checked at the edge already); checking again here means no caller
    string can ever become `..` or `/` in a URL, whatever a future route forgets."""
    words = [str(s) if isinstance(s, uuid.UUID) else _SEGMENT.validate_python(s) for s in segments]
    return "/" + "/".join(quote(word, safe="") for word in words)


class SessionsUnavailable(Exception):
    """A service behind the gateway did not answer; the caller gets a 503 and may retry."""


class InternalApi:
    def __init__(self, base_url: str, internal_token: str, timeout: float = 5.0) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url,
            headers={"X-Internal-Token": internal_token},
            timeout=timeout,
        )

    async def close(self) -> None:
        await self._http.aclose()

    async def _get(self, path: str, view: type[V], **params: int | str) -> V | None:
        try:
            response = await self._http.get(path, params=params)
        except httpx.HTTPError as error:
            raise SessionsUnavailable(str(error)) from error
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise SessionsUnavailable(f"{self._http.base_url} answered {response.status_code}")
        return view.model_validate_json(response.content)


class SessionsClient(InternalApi):
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


class OfflineMessagesClient(InternalApi):
    async def queue(self, site_id: str, status: str, limit: int) -> MessageQueue:
        found = await self._get(
            path("v1", "sites", site_id, "messages"), MessageQueue, status=status, limit=limit
        )
        return found or MessageQueue(messages=[])


class SummaryClient(InternalApi):
    """The summary projector's read model, passed through as it is (JSON, or an SSE stream)."""

    async def read(self, path: str, **params: str) -> tuple[int, bytes]:
        try:
            response = await self._http.get(path, params=params)
        except httpx.HTTPError as error:
            raise SessionsUnavailable(str(error)) from error
        if response.status_code >= 500:
            raise SessionsUnavailable(f"summary projector answered {response.status_code}")
        return response.status_code, response.content

    @asynccontextmanager
    async def stream(self, path: str, **params: str) -> AsyncIterator[AsyncIterator[bytes]]:
        request = self._http.build_request("GET", path, params=params, timeout=None)
        try:
            response = await self._http.send(request, stream=True)
        except httpx.HTTPError as error:
            raise SessionsUnavailable(str(error)) from error
        try:
            if response.status_code != 200:
                raise SessionsUnavailable(f"summary stream answered {response.status_code}")
            yield response.aiter_raw()
        finally:
            await response.aclose()
