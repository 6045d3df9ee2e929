"""The summary projector on the real RabbitMQ: events in, summary out over HTTP and SSE.

The app runs in this process through its real lifespan (broker, topology, consumer) on the
in-memory store, served by uvicorn on a free port so the event stream really streams.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from livechat_shared.contracts import (
    Channel,
    ChatHeld,
    ChatOffered,
    ChatStarted,
    MessageLeft,
    OperatorPresenceChanged,
    OperatorSlotsChanged,
    Presence,
    SetOperatorPresence,
    VisitorQueued,
    VisitorWaiting,
)
from livechat_shared.runtime.settings import DEV_INTERNAL_TOKEN
from summary_projector.adapters.memory_store import MemorySummaryStore
from summary_projector.main import create_app
from summary_projector.settings import SummaryProjectorSettings

from tests.support.apps import queue_manager_app, routing_of, running
from tests.support.broker import AMQP_URL, Tap, publish
from tests.support.processes import free_port

pytestmark = pytest.mark.integration

Body = dict[str, Any]


def projector_app() -> FastAPI:
    settings = SummaryProjectorSettings.model_validate(
        {
            "amqp_url": AMQP_URL,
            "log_level": "WARNING",
            "stream_poll_seconds": 0.5,
        }
    )
    return create_app(settings, store=MemorySummaryStore())


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """HTTP on a real socket (the lifespan is run by `running`, not by uvicorn)."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    config.timeout_graceful_shutdown = 2
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(500):
            if server.started:
                break
            await asyncio.sleep(0.02)
        else:
            raise TimeoutError("uvicorn did not start")
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}",
            timeout=10,
            headers={"X-Internal-Token": DEV_INTERNAL_TOKEN},
        ) as http:
            yield http
    finally:
        server.should_exit = True
        await task


class Frames:
    """The `summary` frames of an open text/event-stream response."""

    def __init__(self, response: httpx.Response) -> None:
        self._lines = response.aiter_lines()

    async def next(self) -> Body:
        fields: dict[str, str] = {}
        async for line in self._lines:
            if line.startswith(":"):
                continue  # keep-alive comment
            if line:
                name, _, value = line.partition(": ")
                fields[name] = value
            elif "data" in fields:
                assert fields["event"] == "summary"
                body: Body = json.loads(fields["data"])
                assert str(body["version"]) == fields["id"]
                return body
        raise AssertionError("the stream ended")

    async def until(self, wanted: Callable[[Body], bool], within: float = 10.0) -> Body:
        async with asyncio.timeout(within):
            while not wanted(frame := await self.next()):
                pass
        return frame


async def eventually(read: Callable[[], Any], wanted: Callable[[Any], bool]) -> Any:
    for _ in range(200):
        if wanted(found := await read()):
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"not within 10 s; last: {found}")


async def test_published_events_show_in_the_summary_over_http_and_on_the_stream(
    site_id: str,
) -> None:
    t0 = datetime.now(UTC) - timedelta(seconds=30)
    offer_id, session_id = uuid.uuid4(), uuid.uuid4()
    common = {"site_id": site_id}
    app = projector_app()
    async with running(app), serving(app) as http:
        url = f"/v1/sites/{site_id}/summary"
        async with http.stream("GET", f"{url}/stream") as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            frames = Frames(response)
            assert (await frames.next())["version"] == 0  # a site not heard of yet: empty
            queued = VisitorQueued(
                visitor_id="v1", channel=Channel.CHAT, waiting_since=t0, **common
            )
            for event in (
                OperatorPresenceChanged(operator_id="ann", presence=Presence.ONLINE, **common),
                # the queue manager's word on ann's chat slots: the projector never recounts them
                OperatorSlotsChanged(
                    operator_id="ann",
                    channel=Channel.CHAT,
                    max_slots=2,
                    used_slots=0,
                    free_slots=2,
                    **common,
                ),
                queued,
                VisitorQueued(visitor_id="v2", channel=Channel.CALL, waiting_since=t0, **common),
                ChatOffered(
                    offer_id=offer_id,
                    visitor_id="v2",
                    operator_id="ann",
                    channel=Channel.CALL,
                    waiting_since=t0,
                    expires_at=t0 + timedelta(minutes=1),
                    **common,
                ),
                ChatStarted(
                    session_id=offer_id,
                    visitor_id="v2",
                    operator_id="ann",
                    channel=Channel.CALL,
                    waited_seconds=30,
                    **common,
                ),
                ChatHeld(session_id=offer_id, visitor_id="v2", operator_id="ann", **common),
                MessageLeft(
                    offline_message_id=session_id,
                    visitor_id="v3",
                    name="Ada",
                    email="ada@example.com",
                    text="Call me back",
                    occurred_at=t0,
                    **common,
                ),
            ):
                await publish(event)
            frame = await frames.until(lambda f: f["version"] == 8)
        assert frame["in_progress"] == {"active": 0, "on_hold": 1}
        assert frame["queues"]["chats"]["waiting"] == 1
        assert frame["queues"]["calls"]["waiting"] == 0
        assert frame["queues"]["messages"]["waiting"] == 1
        assert frame["operators"] == {"online": 1, "away": 0, "with_free_capacity": 1}

        full = (await http.get(url)).json()
        assert full["version"] == 8
        assert full["queues"]["chats"]["longest_wait_seconds"] >= 30
        minimized = (await http.get(url, params={"view": "minimized"})).json()
        assert set(minimized) == {"view", "site_id", "version", "as_of", "queues"}
        ann = (await http.get(f"/v1/sites/{site_id}/operators/ann/summary")).json()
        assert (ann["in_progress"], ann["free_chat_slots"]) == ({"active": 0, "on_hold": 1}, 2)

        await publish(queued)  # a redelivery: same event id
        metrics = await eventually(
            lambda: http.get("/metrics"),
            lambda r: 'livechat_summary_events_duplicate_total{type="VisitorQueued"}' in r.text,
        )
        assert "livechat_summary_projection_lag_seconds_count" in metrics.text
        assert (await http.get(url)).json()["version"] == 8
        bad = await http.get("/v1/sites/no spaces/summary")
        assert bad.status_code == 422


async def test_the_summary_agrees_with_the_queue_managers_own_state(site_id: str) -> None:
    projector = projector_app()
    routing = queue_manager_app(max_chats=2)
    async with (
        Tap(site_id) as tap,
        running(routing),
        running(projector),
        serving(projector) as http,
    ):
        for operator in ("ann", "bob"):
            await publish(
                SetOperatorPresence(site_id=site_id, operator_id=operator, presence=Presence.ONLINE)
            )
        for i in range(6):
            await publish(VisitorWaiting(site_id=site_id, visitor_id=f"v{i}"))
        await tap.wait_for(ChatOffered, count=4)
        body = await eventually(
            lambda: http.get(f"/v1/sites/{site_id}/summary"),
            lambda r: r.json()["queues"]["chats"]["waiting"] == 2,
        )
        site = routing_of(routing).sites[site_id]
        assert len(site.waiting(Channel.CHAT)) == 2 and len(site.offers) == 4
        summary = body.json()
        assert summary["operators"] == {"online": 2, "away": 0, "with_free_capacity": 0}
        oldest = min(v.waiting_since for v in site.waiting(Channel.CHAT))
        since = datetime.fromisoformat(summary["queues"]["chats"]["longest_waiting_since"])
        assert since == oldest
        bob = (await http.get(f"/v1/sites/{site_id}/operators/bob/summary")).json()
        assert (bob["pending_offers"], bob["has_free_capacity"]) == (2, False)
