"""The summary projector's internal API, passed through as it is (JSON, or an SSE stream)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from visitor_gateway.adapters.internal_api import InternalApi, ServiceUnavailable


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
