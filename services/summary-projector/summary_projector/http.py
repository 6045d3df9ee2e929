"""HTTP entry points: the Communication Summary of a site or an operator, read or streamed (SSE).

A site that nothing has happened on yet answers 200 with an empty summary, not 404: the projector
learns of sites only from their events, so "no such site" and "quiet site" look the same.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent
from livechat_shared.contracts.envelope import Identifier, SiteId

from summary_projector.domain import SiteSummary
from summary_projector.queries import SummaryQueries
from summary_projector.views import (
    CommunicationQueueView,
    MinimizedSummaryView,
    OperatorChatLimitView,
    OperatorSummaryView,
    SiteSettingsView,
    SiteSummaryView,
    chat_limit_view,
    minimized_view,
    operator_view,
    queue_view,
    settings_view,
    site_view,
)

router = APIRouter(prefix="/v1/sites/{site_id}", tags=["summary"])

RECONNECT_MS = 1000
"""Sent with every frame: how soon a browser's EventSource reconnects after a stream ends."""

# The contracts' one definition of an id: no slashes, no leading dot, ASCII only.
SiteIdPath = Annotated[SiteId, Path(description="The site's id.")]
OperatorId = Annotated[Identifier, Path(description="The operator's id.")]


class View(StrEnum):
    FULL = "full"
    MINIMIZED = "minimized"


ViewQuery = Annotated[View, Query(description="full: everything; minimized: only the Queues.")]


def summaries_of(request: Request) -> SummaryQueries:
    found = request.app.state.summaries
    assert isinstance(found, SummaryQueries)
    return found


SummariesDep = Annotated[SummaryQueries, Depends(summaries_of)]


def _render(
    summary: SiteSummary, version: int, view: View, now: datetime
) -> SiteSummaryView | MinimizedSummaryView:
    if view is View.MINIMIZED:
        return minimized_view(summary, version, now)
    return site_view(summary, version, now)


@router.get("/summary")
async def site_summary(
    site_id: SiteIdPath, summaries: SummariesDep, view: ViewQuery = View.FULL
) -> SiteSummaryView | MinimizedSummaryView:
    """In Progress, Queues (with the longest waits) and Operators; `view=minimized`: Queues."""
    version, summary = await summaries.site(site_id)
    return _render(summary, version, view, summaries.clock())


@router.get("/operators/{operator_id}/summary")
async def operator_summary(
    site_id: SiteIdPath, operator_id: OperatorId, summaries: SummariesDep
) -> OperatorSummaryView:
    """One operator's chats in progress, pending offers and free capacity (an operator never
    heard of is offline with nothing in progress)."""
    version, summary = await summaries.operator(site_id, operator_id)
    return operator_view(site_id, summary, version, summaries.clock())


@router.get("/queue")
async def communication_queue(
    site_id: SiteIdPath, summaries: SummariesDep
) -> CommunicationQueueView:
    """Every visitor waiting or being offered, with its time in the queue, badge and status."""
    version, entries = await summaries.queue(site_id)
    return queue_view(site_id, entries, version, summaries.clock())


NOT_ANNOUNCED = "the queue manager has not announced this site's maximum number of chats yet"


@router.get("/settings", responses={404: {"description": NOT_ANNOUNCED}})
async def site_settings(site_id: SiteIdPath, summaries: SummariesDep) -> SiteSettingsView:
    """The site's maximum number of chats and every operator's own, as last announced."""
    found = await summaries.settings(site_id)
    if found is None:
        raise HTTPException(404, NOT_ANNOUNCED)
    return settings_view(found)


@router.get("/operators/{operator_id}/chat-limit", responses={404: {"description": NOT_ANNOUNCED}})
async def chat_limit(
    site_id: SiteIdPath, operator_id: OperatorId, summaries: SummariesDep
) -> OperatorChatLimitView:
    """One operator's maximum number of chats: the site's, its own, and the one applied."""
    found = await summaries.chat_limit(site_id, operator_id)
    if found is None:
        raise HTTPException(404, NOT_ANNOUNCED)
    return chat_limit_view(site_id, operator_id, found)


@router.get("/summary/stream", response_class=EventSourceResponse)
async def summary_stream(
    site_id: SiteIdPath, summaries: SummariesDep, view: ViewQuery = View.FULL
) -> AsyncIterator[ServerSentEvent]:
    """Server-Sent Events: a `summary` frame with the current summary, then one per change
    (the frame id is the version). The stream ends after a while; EventSource reconnects."""
    async for version, summary in summaries.follow(site_id, queues_only=view is View.MINIMIZED):
        yield ServerSentEvent(
            event="summary",
            id=str(version),
            retry=RECONNECT_MS,
            data=_render(summary, version, view, summaries.clock()),
        )
