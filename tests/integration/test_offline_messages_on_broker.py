"""The Message Queue on the real RabbitMQ: messages left, taken oldest first, answered, read."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from livechat_shared.contracts import (
    CloseMessage,
    CommandRejected,
    MessageLeft,
    OfflineMessageClosed,
    OfflineMessageReplied,
    OfflineMessageTaken,
    ReplyToMessage,
    TakeNextMessage,
)
from offline_messages.adapters.memory_store import MemoryMessageStore
from offline_messages.adapters.mongo_store import MongoMessageStore
from offline_messages.main import create_app
from offline_messages.ports import OfflineMessageStore
from offline_messages.settings import OfflineMessagesSettings

from tests.support.apps import running
from tests.support.broker import AMQP_URL, Tap, publish
from tests.support.mongo import StandInDatabase

pytestmark = pytest.mark.integration

TOKEN = "offline-messages-test-token"
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def offline_messages_app(store: OfflineMessageStore | None = None) -> FastAPI:
    settings = OfflineMessagesSettings.model_validate(
        {"amqp_url": AMQP_URL, "log_level": "WARNING", "internal_api_token": TOKEN}
    )
    return create_app(settings, store=store if store is not None else MemoryMessageStore())


@asynccontextmanager
async def message_queue(
    site_id: str, store: OfflineMessageStore | None = None
) -> AsyncIterator[tuple[Tap, httpx.AsyncClient]]:
    """The service running in this process, a tap on the site's traffic, and an HTTP client."""
    app = offline_messages_app(store)
    transport = httpx.ASGITransport(app=app)
    async with (
        Tap(site_id) as tap,
        running(app),
        httpx.AsyncClient(
            transport=transport, base_url="http://offline", headers={"X-Internal-Token": TOKEN}
        ) as http,
    ):
        yield tap, http


async def leave(site_id: str, minutes_ago: int, text: str = "Hello?") -> MessageLeft:
    event = MessageLeft(
        site_id=site_id,
        offline_message_id=uuid.uuid4(),
        visitor_id=f"v{minutes_ago}",
        name="Ada",
        email="ada@example.com",
        text=text,
        occurred_at=T0 - timedelta(minutes=minutes_ago),
    )
    await publish(event)
    return event


async def queue_ids(http: httpx.AsyncClient, site_id: str, status: str = "waiting") -> list[str]:
    response = await http.get(f"/v1/sites/{site_id}/messages", params={"status": status})
    assert response.status_code == 200, response.text
    return [m["offline_message_id"] for m in response.json()["messages"]]


async def test_messages_left_are_taken_oldest_first(site_id: str) -> None:
    async with message_queue(site_id) as (tap, _):
        newer, oldest, middle = [await leave(site_id, m) for m in (1, 30, 10)]
        for _ in range(3):
            await publish(TakeNextMessage(site_id=site_id, operator_id="ann"))
        taken = await tap.wait_for(OfflineMessageTaken, count=3)
        assert [t.offline_message_id for t in taken] == [
            oldest.offline_message_id,
            middle.offline_message_id,
            newer.offline_message_id,
        ]
        assert (taken[0].text, taken[0].left_at) == (oldest.text, oldest.occurred_at)


async def test_two_operators_pressing_next_message_at_once_get_different_messages(
    site_id: str,
) -> None:
    async with message_queue(site_id) as (tap, _):
        first, second = await leave(site_id, 2), await leave(site_id, 1)
        await asyncio.gather(
            *(publish(TakeNextMessage(site_id=site_id, operator_id=op)) for op in ("ann", "bob"))
        )
        taken = await tap.wait_for(OfflineMessageTaken, count=2)
        assert {t.operator_id for t in taken} == {"ann", "bob"}
        assert {t.offline_message_id for t in taken} == {
            first.offline_message_id,
            second.offline_message_id,
        }


async def test_an_empty_queue_is_answered(site_id: str) -> None:
    async with message_queue(site_id) as (tap, _):
        command = TakeNextMessage(site_id=site_id, operator_id="ann")
        await publish(command)
        [answer] = await tap.wait_for(CommandRejected)
        assert (answer.command_id, answer.reason) == (command.command_id, "no message is waiting")


async def test_a_redelivered_take_republishes_the_same_event_and_takes_nothing_more(
    site_id: str,
) -> None:
    # On the MongoDB store (the stand-in when no server runs): its indexes come up at start.
    async with message_queue(site_id, MongoMessageStore(StandInDatabase())) as (tap, http):
        first, second = await leave(site_id, 2), await leave(site_id, 1)
        command = TakeNextMessage(site_id=site_id, operator_id="ann")
        await publish(command)
        await publish(command)  # the same command id: a redelivery
        original, again = await tap.wait_for(OfflineMessageTaken, count=2)
        assert original == again
        assert original.offline_message_id == first.offline_message_id
        assert await queue_ids(http, site_id) == [str(second.offline_message_id)]


async def test_only_the_operator_who_took_it_may_reply_or_close(site_id: str) -> None:
    async with message_queue(site_id) as (tap, http):
        left = await leave(site_id, 5)
        message_id = left.offline_message_id
        await publish(TakeNextMessage(site_id=site_id, operator_id="ann"))
        await tap.wait_for(OfflineMessageTaken)

        wrong = [
            ReplyToMessage(
                site_id=site_id, offline_message_id=message_id, operator_id="bob", text="Hi"
            ),
            CloseMessage(site_id=site_id, offline_message_id=message_id, operator_id="bob"),
        ]
        for command in wrong:
            await publish(command)
        rejected = await tap.wait_for(CommandRejected, count=2)
        assert [(r.command_id, r.operator_id) for r in rejected] == [
            (c.command_id, "bob") for c in wrong
        ]
        assert {r.reason for r in rejected} == {"the message was taken by another operator"}

        await publish(
            ReplyToMessage(
                site_id=site_id, offline_message_id=message_id, operator_id="ann", text="Yes!"
            )
        )
        [replied] = await tap.wait_for(OfflineMessageReplied)
        assert (replied.email, replied.text) == ("ada@example.com", "Yes!")
        await publish(
            CloseMessage(site_id=site_id, offline_message_id=message_id, operator_id="ann")
        )
        await tap.wait_for(OfflineMessageClosed)

        response = await http.get(f"/v1/sites/{site_id}/messages/{message_id}")
        assert response.status_code == 200
        view = response.json()
        assert (view["status"], view["operator_id"], view["reply"]) == ("closed", "ann", "Yes!")


async def test_the_read_api_lists_the_queue_and_requires_the_internal_token(
    site_id: str,
) -> None:
    async with message_queue(site_id) as (tap, http):
        older, newer = await leave(site_id, 9, "first"), await leave(site_id, 3, "second")
        expected = [str(older.offline_message_id), str(newer.offline_message_id)]

        # Taking the first proves both were stored: the input queue is consumed in order.
        await publish(TakeNextMessage(site_id=site_id, operator_id="ann"))
        await tap.wait_for(OfflineMessageTaken)

        assert await queue_ids(http, site_id) == expected[1:]
        assert await queue_ids(http, site_id, "taken") == expected[:1]
        assert await queue_ids(http, site_id, "all") == expected
        limited = await http.get(
            f"/v1/sites/{site_id}/messages", params={"status": "all", "limit": 1}
        )
        assert [m["text"] for m in limited.json()["messages"]] == ["first"]

        one = await http.get(f"/v1/sites/{site_id}/messages/{newer.offline_message_id}")
        assert one.json() == {
            "offline_message_id": str(newer.offline_message_id),
            "site_id": site_id,
            "visitor_id": "v3",
            "name": "Ada",
            "email": "ada@example.com",
            "text": "second",
            "left_at": "2026-03-01T08:57:00Z",
            "status": "waiting",
            "operator_id": None,
            "reply": None,
        }
        missing = await http.get(f"/v1/sites/other-site/messages/{newer.offline_message_id}")
        assert missing.status_code == 404
        bad = await http.get(f"/v1/sites/{site_id}/messages", params={"status": "lost"})
        assert bad.status_code == 422
        too_many = await http.get(f"/v1/sites/{site_id}/messages", params={"limit": 501})
        assert too_many.status_code == 422

        for token in (None, "wrong-token-0123456789"):
            for path in ("/messages", f"/messages/{newer.offline_message_id}"):
                request = http.build_request("GET", f"/v1/sites/{site_id}{path}")
                del request.headers["X-Internal-Token"]
                if token is not None:
                    request.headers["X-Internal-Token"] = token
                assert (await http.send(request)).status_code == 401, (path, token)

        metrics = (await http.get("/metrics")).text
        assert f'livechat_offline_messages_waiting{{site="{site_id}"}} 1.0' in metrics
        assert 'livechat_offline_message_outcomes_total{outcome="taken"}' in metrics
