"""What every client of an internal API shares: the service token, encoded id paths, and
ServiceUnavailable (a 503 for the caller) when the service does not answer."""

from __future__ import annotations

import uuid
from typing import TypeVar
from urllib.parse import quote

import httpx
from livechat_shared.contracts.envelope import Identifier
from pydantic import BaseModel, TypeAdapter

V = TypeVar("V", bound=BaseModel)
_SEGMENT: TypeAdapter[str] = TypeAdapter(Identifier)


def path(*segments: str | uuid.UUID) -> str:
    """An internal API path from its segments, each one checked to be an id and encoded.

    The ids come from tokens (checked at the edge already); checking again here means no caller
    string can ever become `..` or `/` in a URL, whatever a future route forgets."""
    words = [str(s) if isinstance(s, uuid.UUID) else _SEGMENT.validate_python(s) for s in segments]
    return "/" + "/".join(quote(word, safe="") for word in words)


class ServiceUnavailable(Exception):
    """A service behind the gateway did not answer; the caller gets a 503 and may retry.
    Each client raises its own subclass, so a log names the service."""


class InternalApi:
    unavailable: type[ServiceUnavailable] = ServiceUnavailable

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
            raise self.unavailable(str(error)) from error
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise self.unavailable(f"{self._http.base_url} answered {response.status_code}")
        return view.model_validate_json(response.content)
