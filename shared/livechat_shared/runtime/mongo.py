"""Opening the MongoDB database a service stores in, the one way every service does it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pymongo import AsyncMongoClient

from livechat_shared.runtime.settings import ServiceSettings


def open_database(settings: ServiceSettings) -> tuple[Any, Callable[[], Awaitable[None]]]:
    """The service's database and the function that closes its client (nothing connects yet).

    Dates come back timezone-aware (UTC), as the contracts require.
    """
    assert settings.mongo_url, "only called when MONGO_URL is set"
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongo_url, tz_aware=True)
    return client[settings.mongo_database], client.close
