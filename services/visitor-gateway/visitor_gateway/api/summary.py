"""The Communication Summary and the Communication Queue for the operator console."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Literal

from fastapi import APIRouter, Response
from fastapi.responses import StreamingResponse
from livechat_shared.contracts.views import (
    CommunicationQueueView,
    MinimizedSummaryView,
    OperatorSummaryView,
    SiteSummaryView,
)
from pydantic import Field

from visitor_gateway.adapters.internal_api import path
from visitor_gateway.api.errors import EVERY_ROUTE, SIGNED_IN, Responses
from visitor_gateway.api.gateway import GatewayDep, OperatorDep

router = APIRouter(prefix="/v1/operator", tags=["summary"], responses=EVERY_ROUTE | SIGNED_IN)

View = Literal["full", "minimized"]
AnySummary = Annotated[SiteSummaryView | MinimizedSummaryView, Field(discriminator="view")]

# The projector's JSON passes through as it came (a Response skips FastAPI's re-validation and
# re-serialisation); `response_model` only declares its shape in the OpenAPI.


def _json(status_code: int, body: bytes) -> Response:
    return Response(body, status_code=status_code, media_type="application/json")


@router.get("/summary", response_model=AnySummary)
async def summary(op: OperatorDep, gateway: GatewayDep, view: View = "full") -> Response:
    """In Progress, Queues (with the longest waits) and Operators of the site; `view=minimized`
    returns only the Queues."""
    return _json(*await gateway.summary.read(path("v1", "sites", op.site_id, "summary"), view=view))


@router.get("/summary/me", response_model=OperatorSummaryView)
async def my_summary(op: OperatorDep, gateway: GatewayDep) -> Response:
    """This operator's chats in progress, pending offers and free capacity."""
    mine = path("v1", "sites", op.site_id, "operators", op.subject, "summary")
    return _json(*await gateway.summary.read(mine))


SUMMARY_FRAMES: Responses = {
    200: {
        "description": "Server-Sent Events: each frame's `event` is `summary`, its `id` the "
        "summary's version, and its `data` one summary as JSON (`view` tells which).",
        "content": {
            "text/event-stream": {
                "itemSchema": {
                    "type": "object",
                    "required": ["event", "id", "data"],
                    "properties": {
                        "event": {"type": "string", "const": "summary"},
                        "id": {"type": "string", "description": "The summary's version."},
                        "retry": {"type": "integer", "minimum": 0},
                        "data": {
                            "type": "string",
                            "contentMediaType": "application/json",
                            "contentSchema": {
                                "oneOf": [
                                    {"$ref": "#/components/schemas/SiteSummaryView"},
                                    {"$ref": "#/components/schemas/MinimizedSummaryView"},
                                ]
                            },
                        },
                    },
                }
            }
        },
    }
}
"""The stream's frames, typed in the OpenAPI (the bytes are the projector's, relayed as they
come): the same summaries as `GET /summary`, one per change."""


@router.get("/summary/stream", response_class=StreamingResponse, responses=SUMMARY_FRAMES)
async def summary_stream(op: OperatorDep, gateway: GatewayDep, view: View = "full") -> Response:
    """Server-Sent Events: the summary now, then after every change."""
    opened = gateway.summary.stream(path("v1", "sites", op.site_id, "summary", "stream"), view=view)
    chunks = await opened.__aenter__()

    async def relay() -> AsyncIterator[bytes]:
        try:
            async for chunk in chunks:
                yield chunk
        finally:
            await opened.__aexit__(None, None, None)

    return StreamingResponse(relay(), media_type="text/event-stream")


@router.get("/queue", response_model=CommunicationQueueView)
async def communication_queue(op: OperatorDep, gateway: GatewayDep) -> Response:
    """The Communication Queue: waiting and offered visitors with time in queue, badge, status."""
    return _json(*await gateway.summary.read(path("v1", "sites", op.site_id, "queue")))
