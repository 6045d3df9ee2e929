"""Every error the gateway answers, documented in its OpenAPI with the body it carries."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Problem(BaseModel):
    """The body of every error but 422 (whose `detail` lists what was wrong where)."""

    detail: str = Field(description="What went wrong, safe to show to the caller.")


Responses = dict[int | str, dict[str, Any]]


def _problem(description: str) -> dict[str, Any]:
    return {"model": Problem, "description": description}


RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before retrying.",
        "schema": {"type": "integer"},
    }
}

EVERY_ROUTE: Responses = {
    400: _problem("The body is not JSON at all."),
    404: _problem("No such route, or nothing of yours under this path."),
    413: _problem("The request body is larger than the gateway accepts."),
    503: {
        **_problem(
            "The broker, a service behind the gateway or the identity provider is "
            "unavailable now; retry after a moment."
        ),
        "headers": RETRY_AFTER,
    },
}
SIGNED_IN: Responses = {
    401: {
        **_problem(
            "No bearer token, or one that is expired, forged, or whose claims the "
            "contracts cannot carry (the reason says which)."
        ),
        "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
    },
    403: _problem("A valid token of the other role (a visitor's on an operator route)."),
}
LIMITED: Responses = {
    429: {
        **_problem("Too many requests from this identity or client address."),
        "headers": RETRY_AFTER,
    },
}
HAS_A_CHAT: Responses = {
    404: _problem("You have no chat."),
}
"""Commands in a chat (messages, hold, resume, end) are not checked here: the session service
decides them and answers a refusal with CommandRejected on the caller's socket."""
