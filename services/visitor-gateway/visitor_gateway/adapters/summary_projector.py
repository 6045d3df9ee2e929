"""The summary projector's internal API, passed through as it is (JSON, or an SSE stream)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from livechat_shared.contracts.views import OperatorChatLimitView, SiteSettingsView

from visitor_gateway.adapters.internal_api import InternalApi, ServiceUnavailable, path


class SummaryProjectorUnavailable(ServiceUnavailable):
    """The summary projector did not answer."""


class SummaryProjectorClient(InternalApi):
    unavailable = SummaryProjectorUnavailable

    async def read(self, path: str, **params: str) -> tuple[int, bytes]:
        try:
            response = await self._http.get(path, params=params)
        except httpx.HTTPError as error:
            raise self.unavailable(str(error)) from error
        if response.status_code >= 500:
            raise self.unavailable(f"summary projector answered {response.status_code}")
        return response.status_code, response.content

    async def site_settings(self, site_id: str) -> SiteSettingsView | None:
        """The site's maximum number of chats and operators' own; None while the projector has
        not heard of the site's settings (or answered for another site)."""
        found = await self._get(path("v1", "sites", site_id, "settings"), SiteSettingsView)
        return found if found is not None and found.site_id == site_id else None

    async def chat_limit(self, site_id: str, operator_id: str) -> OperatorChatLimitView | None:
        """One operator's maximum number of chats; None as for site_settings."""
        found = await self._get(
            path("v1", "sites", site_id, "operators", operator_id, "chat-limit"),
            OperatorChatLimitView,
        )
        if found is None or found.site_id != site_id or found.operator_id != operator_id:
            return None
        return found

    @asynccontextmanager
    async def stream(self, path: str, **params: str) -> AsyncIterator[AsyncIterator[bytes]]:
        request = self._http.build_request("GET", path, params=params, timeout=None)
        try:
            response = await self._http.send(request, stream=True)
        except httpx.HTTPError as error:
            raise self.unavailable(str(error)) from error
        try:
            if response.status_code != 200:
                raise self.unavailable(f"summary stream answered {response.status_code}")
            yield response.aiter_raw()
        finally:
            await response.aclose()
