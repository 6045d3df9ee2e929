"""The HTTP read side on the in-memory store, without a broker: views, validation, the stream."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from livechat_shared.contracts import Channel, Event, Presence
from livechat_shared.runtime.settings import DEV_INTERNAL_TOKEN
from pymongo.errors import ServerSelectionTimeoutError
from summary_projector.adapters.memory_store import MemorySummaryStore
from summary_projector.handlers import ProjectionService
from summary_projector.main import create_app
from summary_projector.ports import SiteRecord
from summary_projector.queries import SummaryQueries
from summary_projector.settings import SummaryProjectorSettings

from tests.unit.summary_projector.events import (
    SITE,
    at,
    ids,
    message_left,
    offered,
    online,
    queued,
    slots,
    started,
)

NOW = at(100)
ID = ids("o1", "s1", "m1")


@pytest.fixture
def app() -> FastAPI:
    settings = SummaryProjectorSettings.model_validate(
        {"log_level": "WARNING", "stream_poll_seconds": 0.05}
    )
    app = create_app(settings, store=MemorySummaryStore())  # no lifespan: nothing connects
    app.state.summaries.clock = lambda: NOW
    return app


INTERNAL = {"X-Internal-Token": DEV_INTERNAL_TOKEN}


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://projector", headers=INTERNAL
    ) as client:
        yield client


async def feed(app: FastAPI, *events: Event) -> None:
    projector = app.state.projector
    assert isinstance(projector, ProjectionService)
    for event in events:
        await projector.project(event)


async def busy_site(app: FastAPI) -> None:
    await feed(
        app,
        online("ann"),
        online("bob", Presence.AWAY),
        queued("v1", 10),
        queued("v2", 40),
        queued("v3", 70, Channel.CALL),
        offered(ID["o1"], "v1", "ann"),
        started(ID["s1"], "v4", "ann"),
        slots("ann", free=0, maximum=2),
        message_left(ID["m1"], 0),
    )


async def test_the_full_summary_counts_in_progress_queues_and_operators(
    app: FastAPI, http: httpx.AsyncClient
) -> None:
    await busy_site(app)
    response = await http.get(f"/v1/sites/{SITE}/summary")
    assert response.status_code == 200
    assert response.json() == {
        "view": "full",
        "site_id": SITE,
        "version": 9,
        "as_of": "2026-11-25T09:01:40Z",
        "in_progress": {"active": 1, "on_hold": 0},
        "queues": {
            "chats": {
                "waiting": 1,
                "longest_waiting_since": "2026-11-25T09:00:40Z",
                "longest_wait_seconds": 60.0,
            },
            "calls": {
                "waiting": 1,
                "longest_waiting_since": "2026-11-25T09:01:10Z",
                "longest_wait_seconds": 30.0,
            },
            "messages": {
                "waiting": 1,
                "longest_waiting_since": "2026-11-25T09:00:00Z",
                "longest_wait_seconds": 100.0,
            },
        },
        "operators": {"online": 1, "away": 1, "with_free_capacity": 0},
    }


async def test_the_minimized_view_shows_only_the_queues(
    app: FastAPI, http: httpx.AsyncClient
) -> None:
    await busy_site(app)
    body = (await http.get(f"/v1/sites/{SITE}/summary", params={"view": "minimized"})).json()
    assert set(body) == {"view", "site_id", "version", "as_of", "queues"}
    assert body["view"] == "minimized" and body["queues"]["chats"]["waiting"] == 1


async def test_an_operator_summary_shows_its_chats_offers_and_free_capacity(
    app: FastAPI, http: httpx.AsyncClient
) -> None:
    await busy_site(app)
    response = await http.get(f"/v1/sites/{SITE}/operators/ann/summary")
    assert response.json() == {
        "site_id": SITE,
        "version": 9,
        "as_of": "2026-11-25T09:01:40Z",
        "operator_id": "ann",
        "presence": "online",
        "max_chats": 2,
        "in_progress": {"active": 1, "on_hold": 0},
        "pending_offers": 1,
        "pending_invitations": 0,
        "free_chat_slots": 0,
        "has_free_capacity": False,
        "presence_reason": "operator",
        "offers": [
            {
                "offer_id": str(ID["o1"]),
                "visitor_id": "v1",
                "channel": "chat",
                "waiting_since": "2026-11-25T09:00:00Z",
                "expires_at": "2026-11-25T09:00:30Z",
            }
        ],
    }


async def test_a_site_nothing_happened_on_has_an_empty_summary_not_a_404(
    http: httpx.AsyncClient,
) -> None:
    body = (await http.get("/v1/sites/quiet-site/summary")).json()
    assert body["version"] == 0 and body["in_progress"] == {"active": 0, "on_hold": 0}
    assert body["queues"]["chats"] == {
        "waiting": 0,
        "longest_waiting_since": None,
        "longest_wait_seconds": None,
    }


@pytest.mark.parametrize(
    ("path", "params", "where"),
    [
        ("/v1/sites/bad site!/summary", {}, "site_id"),
        (f"/v1/sites/{'x' * 129}/summary", {}, "site_id"),
        (f"/v1/sites/{SITE}/summary", {"view": "huge"}, "view"),
        (f"/v1/sites/{SITE}/summary/stream", {"view": "huge"}, "view"),
        (f"/v1/sites/{SITE}/operators/a$b/summary", {}, "operator_id"),
    ],
)
async def test_bad_input_is_a_422_that_names_the_field(
    http: httpx.AsyncClient, path: str, params: dict[str, str], where: str
) -> None:
    response = await http.get(path, params=params)
    assert response.status_code == 422
    assert [e["loc"][-1] for e in response.json()["detail"]] == [where]


def frames(body: str) -> list[dict[str, Any]]:
    """Parse a text/event-stream body into its frames (id, event, data)."""
    parsed = []
    for block in body.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "data" in fields:
            parsed.append({**fields, "data": json.loads(fields["data"])})
    return parsed


async def stream_while(
    app: FastAPI, http: httpx.AsyncClient, params: dict[str, str], *events: Event
) -> list[dict[str, Any]]:
    """Read the stream for a short while, feeding the events one by one once it is open."""
    summaries = app.state.summaries
    assert isinstance(summaries, SummaryQueries)
    summaries.stream_seconds = 0.2 + 0.15 * len(
        events
    )  # the test transport hands over the body once it ends

    async def later() -> None:
        for event in events:
            await asyncio.sleep(0.15)  # longer than a poll: each change is seen on its own
            await feed(app, event)

    feeding = asyncio.create_task(later())
    response = await http.get(f"/v1/sites/{SITE}/summary/stream", params=params)
    await feeding
    assert response.headers["content-type"].startswith("text/event-stream")
    return frames(response.text)


async def test_the_stream_sends_the_summary_then_a_frame_per_change(
    app: FastAPI, http: httpx.AsyncClient
) -> None:
    sent = await stream_while(app, http, {}, queued("v1", 10), online("ann"))
    assert [(f["event"], f["id"], f["retry"]) for f in sent] == [
        ("summary", "0", "1000"),
        ("summary", "1", "1000"),
        ("summary", "2", "1000"),
    ]
    assert [f["data"]["queues"]["chats"]["waiting"] for f in sent] == [0, 1, 1]
    assert [f["data"]["operators"]["online"] for f in sent] == [0, 0, 1]
    assert {f["data"]["view"] for f in sent} == {"full"}


async def test_the_stream_is_pushed_each_change_without_waiting_for_a_re_read() -> None:
    settings = SummaryProjectorSettings.model_validate(
        {"log_level": "WARNING", "stream_poll_seconds": 60}
    )
    app = create_app(settings, store=MemorySummaryStore())
    app.state.summaries.clock = lambda: NOW
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://projector", headers=INTERNAL
    ) as client:
        sent = await stream_while(app, client, {}, queued("v1", 10), online("ann"))
    assert [f["id"] for f in sent] == ["0", "1", "2"]


async def test_the_minimized_stream_moves_only_when_the_queues_do(
    app: FastAPI, http: httpx.AsyncClient
) -> None:
    sent = await stream_while(
        app, http, {"view": "minimized"}, online("ann"), queued("v1", 10), online("bob")
    )
    assert [(f["id"], f["data"]["queues"]["chats"]["waiting"]) for f in sent] == [
        ("0", 0),
        ("2", 1),
    ]
    assert {f["data"]["view"] for f in sent} == {"minimized"}


def test_the_openapi_document_describes_the_summary_routes(app: FastAPI) -> None:
    paths = app.openapi()["paths"]
    assert {
        "/v1/sites/{site_id}/summary",
        "/v1/sites/{site_id}/summary/stream",
        "/v1/sites/{site_id}/operators/{operator_id}/summary",
    } <= set(paths)


class StoreDown(MemorySummaryStore):
    async def load(self, site_id: str) -> SiteRecord:
        raise ServerSelectionTimeoutError("no MongoDB answers")


async def test_a_store_that_is_down_is_a_503_with_retry_after() -> None:
    app = create_app(
        SummaryProjectorSettings.model_validate({"log_level": "WARNING"}), store=StoreDown()
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://projector", headers=INTERNAL
    ) as client:
        response = await client.get(f"/v1/sites/{SITE}/summary")
    assert (response.status_code, response.headers["retry-after"]) == (503, "1")
    assert "unavailable" in response.json()["detail"]


async def test_the_summary_api_is_internal(app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://projector") as client:
        response = await client.get("/v1/sites/acme/summary")
    assert response.status_code == 401 and "X-Internal-Token" in response.text


async def test_the_communication_queue_lists_waiting_and_offered_visitors_oldest_first(
    app: FastAPI, http: httpx.AsyncClient
) -> None:
    from datetime import UTC, datetime

    from livechat_shared.contracts import Channel, ChatOffered, VisitorBadge, VisitorQueued

    t0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    first = VisitorQueued(
        site_id="acme",
        visitor_id="v1",
        channel=Channel.CHAT,
        waiting_since=t0,
        badge=VisitorBadge(name="Ada", current_page="https://shop.example.com/cart"),
    )
    second = VisitorQueued(
        site_id="acme",
        visitor_id="v2",
        channel=Channel.CALL,
        waiting_since=t0.replace(minute=1),
    )
    offer = ChatOffered(
        site_id="acme",
        offer_id=uuid.uuid4(),
        visitor_id="v1",
        operator_id="ann",
        channel=Channel.CHAT,
        waiting_since=t0,
        expires_at=t0,
    )
    for event in (second, first, offer):
        await app.state.projector.handle(event)
    body = (await http.get("/v1/sites/acme/queue")).json()
    rows = [
        (v["visitor_id"], v["status"], v["offered_to"], v["badge"]["name"])
        for v in body["visitors"]
    ]
    assert rows == [("v1", "offered", "ann", "Ada"), ("v2", "waiting", None, None)]
