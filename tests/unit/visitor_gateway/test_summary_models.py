"""The gateway's summary and queue routes declare the projector's read models in the OpenAPI,
and the projector's real output validates against them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from livechat_shared.contracts.views import (
    CommunicationQueueView,
    MinimizedSummaryView,
    OperatorSummaryView,
    SiteSummaryView,
)
from pydantic import BaseModel
from summary_projector.adapters.memory_store import MemorySummaryStore
from summary_projector.main import create_app as create_projector
from summary_projector.settings import SummaryProjectorSettings

from tests.unit.summary_projector.events import SITE
from tests.unit.summary_projector.test_summary_api import INTERNAL, NOW, busy_site, frames
from tests.unit.visitor_gateway.edge import gateway_app

ROUTES: list[tuple[str, str, list[type[BaseModel]]]] = [
    ("/v1/operator/summary", f"/v1/sites/{SITE}/summary", [SiteSummaryView]),
    (
        "/v1/operator/summary",
        f"/v1/sites/{SITE}/summary?view=minimized",
        [SiteSummaryView, MinimizedSummaryView],
    ),
    ("/v1/operator/summary/me", f"/v1/sites/{SITE}/operators/ann/summary", [OperatorSummaryView]),
    ("/v1/operator/queue", f"/v1/sites/{SITE}/queue", [CommunicationQueueView]),
]


def _declared(openapi: dict[str, Any], route: str) -> set[str]:
    """The schema names the route's 200 answer refers to."""
    schema = openapi["paths"][route]["get"]["responses"]["200"]["content"]["application/json"]
    refs = str(schema["schema"])
    return {name for name in openapi["components"]["schemas"] if f"/{name}'" in refs}


@pytest.fixture
def projector() -> FastAPI:
    app = create_projector(
        SummaryProjectorSettings.model_validate({"log_level": "WARNING"}),
        store=MemorySummaryStore(),
    )
    app.state.summaries.clock = lambda: NOW
    return app


@pytest.mark.parametrize(("route", "projector_path", "models"), ROUTES)
async def test_the_projectors_output_is_what_the_gateway_declares(
    projector: FastAPI, route: str, projector_path: str, models: list[type[BaseModel]]
) -> None:
    await busy_site(projector)
    transport = httpx.ASGITransport(app=projector)
    async with httpx.AsyncClient(transport=transport, base_url="http://p", headers=INTERNAL) as h:
        response = await h.get(projector_path)
    assert response.status_code == 200
    model = models[-1]
    assert model.model_validate_json(response.content).model_dump(mode="json") == response.json()

    gateway, _ = gateway_app()
    declared = _declared(gateway.openapi(), route)
    assert {m.__name__ for m in models} <= declared, declared


async def test_the_summary_streams_frames_are_typed_and_the_projectors_frames_fit_them() -> None:
    gateway, _ = gateway_app()
    openapi = gateway.openapi()
    ok = openapi["paths"]["/v1/operator/summary/stream"]["get"]["responses"]["200"]
    frame = ok["content"]["text/event-stream"]["itemSchema"]
    assert frame["properties"]["event"]["const"] == "summary"
    refs = str(frame["properties"]["data"]["contentSchema"])
    assert "/SiteSummaryView'" in refs and "/MinimizedSummaryView'" in refs
    assert {"SiteSummaryView", "MinimizedSummaryView"} <= set(openapi["components"]["schemas"])

    projector = create_projector(
        SummaryProjectorSettings.model_validate({"log_level": "WARNING"}),
        store=MemorySummaryStore(),
    )
    projector.state.summaries.stream_seconds = 0.05
    transport = httpx.ASGITransport(app=projector)
    async with httpx.AsyncClient(transport=transport, base_url="http://p", headers=INTERNAL) as h:
        for view, model in (("full", SiteSummaryView), ("minimized", MinimizedSummaryView)):
            response = await h.get(f"/v1/sites/{SITE}/summary/stream", params={"view": view})
            [sent] = frames(response.text)
            assert sent["event"] == "summary"
            model.model_validate(sent["data"])
