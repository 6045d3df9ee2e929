"""The console's Communication Summary (read and streamed) and Communication Queue, end to end."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import System
from tests.support.clients import Operator, Party, Visitor

pytestmark = pytest.mark.e2e


async def eventually(read: Any, check: Any, within: float = 20.0) -> Any:
    """Read until the check holds; on a timeout, say what was read last (the projector runs
    behind the events, by seconds on a loaded machine)."""
    body = None
    try:
        async with asyncio.timeout(within):
            while True:
                body = await read()
                if check(body):
                    return body
                await asyncio.sleep(0.1)
    except TimeoutError:
        raise AssertionError(f"not so within {within} s; read last: {body}") from None


async def test_the_console_sees_the_summary_and_the_queue_with_badges(
    system: System, site_id: str, people: list[Party]
) -> None:
    ann = await Operator.sign_in(system.gateway, site_id, "ann")
    people.append(ann)
    await ann.presence("online")
    served, *waiting = [await Visitor.arrive(system.gateway, site_id) for _ in range(5)]
    people.extend([served, *waiting])
    await served.ask_for_chat(name="First")
    session = await ann.take(served)
    await ann.step(session, "hold")
    for n, visitor in enumerate(waiting):
        await visitor.ask_for_chat(name=f"Waiting {n}")
    # ann (3 chats) takes two more; two visitors remain in the queue

    async def summary() -> Any:
        return await ann.call("GET", "/v1/operator/summary", expect=200)

    body = await eventually(
        summary, lambda b: b["queues"]["chats"]["waiting"] == 2 and b["in_progress"]["on_hold"] == 1
    )
    assert body["operators"]["online"] == 1
    minimized = await ann.call("GET", "/v1/operator/summary?view=minimized", expect=200)
    assert "in_progress" not in minimized and minimized["queues"]["chats"]["waiting"] == 2

    queue = await ann.call("GET", "/v1/operator/queue", expect=200)
    rows = [(v["badge"]["name"], v["status"], v["offered_to"]) for v in queue["visitors"]]
    assert rows == [
        ("Waiting 0", "offered", "ann"),
        ("Waiting 1", "offered", "ann"),
        ("Waiting 2", "waiting", None),
        ("Waiting 3", "waiting", None),
    ]
    assert all(v["seconds_in_queue"] >= 0 for v in queue["visitors"])

    # ann's own summary lists the two offers she has to answer: what her console shows again
    # after a reconnect, had their ChatOffered frames reached a socket that was down
    mine = await ann.call("GET", "/v1/operator/summary/me", expect=200)
    offers = {o["visitor_id"]: o for o in mine["offers"]}
    assert set(offers) == {waiting[0].id, waiting[1].id} and mine["pending_offers"] == 2
    for offer in offers.values():
        [frame] = await ann.inbox.wait_for("ChatOffered", offer_id=offer["offer_id"])
        assert offer["channel"] == frame["channel"]
        for moment in ("waiting_since", "expires_at"):
            assert datetime.fromisoformat(offer[moment]) == datetime.fromisoformat(frame[moment])


async def test_the_summary_stream_pushes_a_frame_after_each_change(
    system: System, site_id: str, people: list[Party]
) -> None:
    ann = await Operator.sign_in(system.gateway, site_id, "ann")
    people.append(ann)
    headers = {"Authorization": f"Bearer {ann.token}"}
    url = f"{system.gateway}/v1/operator/summary/stream?view=minimized"
    frames: list[dict[str, Any]] = []
    async with (
        httpx.AsyncClient(timeout=None) as http,
        http.stream("GET", url, headers=headers) as stream,
    ):
        assert stream.status_code == 200
        lines = stream.aiter_lines()

        async def next_frame() -> dict[str, Any]:
            async for line in lines:
                if line.startswith("data:"):
                    return dict(json.loads(line[5:]))
            raise AssertionError("the stream ended")

        frames.append(await asyncio.wait_for(next_frame(), 10))
        visitor = await Visitor.arrive(system.gateway, site_id)
        people.append(visitor)
        await visitor.ask_for_chat()
        frames.append(await asyncio.wait_for(next_frame(), 10))
    assert frames[0]["queues"]["chats"]["waiting"] == 0
    assert frames[1]["queues"]["chats"]["waiting"] == 1


async def test_the_widget_knows_whether_anyone_is_online(
    system: System, site_id: str, people: list[Party]
) -> None:
    async with httpx.AsyncClient(base_url=system.gateway) as http:
        widget = (await http.get(f"/v1/sites/{site_id}/widget")).json()
        assert widget["operators_online"] == 0 and widget["offer_message_after_seconds"] > 0
        ann = await Operator.sign_in(system.gateway, site_id, "ann")
        people.append(ann)
        await ann.presence("online")

        async def read() -> Any:
            return (await http.get(f"/v1/sites/{site_id}/widget")).json()

        await eventually(read, lambda w: w["operators_online"] == 1)
