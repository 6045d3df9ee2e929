"""The guard on service-to-service HTTP APIs: the shared secret in `X-Internal-Token`."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Annotated

from fastapi import Header, HTTPException, status

INTERNAL_TOKEN_HEADER = "X-Internal-Token"


def internal_token_guard(expected: str) -> Callable[[str | None], None]:
    """A FastAPI dependency refusing (401) any request without the right token."""
    wanted = expected.encode()

    def guard(
        x_internal_token: Annotated[str | None, Header(include_in_schema=False)] = None,
    ) -> None:
        if not hmac.compare_digest((x_internal_token or "").encode(), wanted):
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED, f"missing or wrong {INTERNAL_TOKEN_HEADER} header"
            )

    return guard
