"""The session service on the real RabbitMQ: transcripts, hold/resume/end, a visitor gone."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any, Literal

import aio_pika
import httpx
import pytest
from aiormq.exceptions import ChannelPreconditionFailed
from livechat_shared.contracts import (
    Channel,
    ChatEnded,
    ChatHeld,
    ChatMessagePosted,
    ChatResumed,
    ChatStarted,
    CommandRejected,
    EndChat,
    HoldChat,
    PostChatMessage,
    ResumeChat,
    VisitorDisconnected,
    VisitorReconnected,
)
from livechat_shared.contracts.services import SESSION_SERVICE
from livechat_shared.contracts.topology import DEAD_LETTER_EXCHANGE, DELIVERY_LIMIT

from tests.support.apps import running
from tests.support.broker import AMQP_URL, Tap, publish
from tests.support.sessions import read_api, session_service_app

pytestmark = pytest.mark.integration


async def start_chat(site_id: str, visitor: str = "v-ada", operator: str = "ann") -> ChatStarted:
    started = ChatStarted(
        site_id=site_id,
        session_id=uuid.uuid4(),
        visitor_id=visitor,
        operator_id=operator,
        channel=Channel.CHAT,
        waited_seconds=3.0,
    )
    await publish(started)
    return started


async def until_found(http: httpx.AsyncClient, path: str, timeout: float = 5.0) -> httpx.Response:
    """The service stores ChatStarted without announcing it: poll until the session is there."""
    async with asyncio.timeout(timeout):
        while True:
            response = await http.get(path)
            if response.status_code != 404:
                return response
            await asyncio.sleep(0.02)


def say(
    chat: ChatStarted,
    text: str,
    author: Literal["operator", "visitor"] = "visitor",
    client_message_id: str | None = None,
    author_id: str | None = None,
) -> PostChatMessage:
    return PostChatMessage(
        site_id=chat.site_id,
        session_id=chat.session_id,
        author=author,
        author_id=author_id or (chat.operator_id if author == "operator" else chat.visitor_id),
        client_message_id=client_message_id or uuid.uuid4().hex,
        text=text,
    )


async def test_messages_are_numbered_in_order_and_a_retried_one_is_stored_once(
    site_id: str,
) -> None:
    app = session_service_app()
    async with Tap(site_id) as tap, running(app), read_api(app) as http:
        chat = await start_chat(site_id)
        await until_found(http, f"/v1/sites/{site_id}/sessions/{chat.session_id}")
        await publish(say(chat, "Hello, my order is late", client_message_id="c-1"))
        await publish(say(chat, "Let me check", "operator", client_message_id="c-2"))
        await publish(say(chat, "Hello, my order is late", client_message_id="c-1"))  # retry
        await publish(say(chat, "Thanks", client_message_id="c-3"))
        posted = await tap.wait_for(ChatMessagePosted, count=4)
        assert [(m.seq, m.author, m.text) for m in posted] == [
            (1, "visitor", "Hello, my order is late"),
            (2, "operator", "Let me check"),
            (1, "visitor", "Hello, my order is late"),
            (3, "visitor", "Thanks"),
        ]
        assert posted[2].event_id == posted[0].event_id  # the same event: consumers dedupe
        transcript = await http.get(f"/v1/sites/{site_id}/sessions/{chat.session_id}/messages")
        assert [(m["seq"], m["client_message_id"]) for m in transcript.json()["messages"]] == [
            (1, "c-1"),
            (2, "c-2"),
            (3, "c-3"),
        ]


async def test_a_sender_who_is_not_in_the_session_is_told_why(site_id: str) -> None:
    app = session_service_app()
    async with Tap(site_id) as tap, running(app), read_api(app) as http:
        chat = await start_chat(site_id)
        await until_found(http, f"/v1/sites/{site_id}/sessions/{chat.session_id}")
        intruder = say(chat, "let me in", "visitor", author_id="v-eve")
        await publish(intruder)
        await publish(say(chat, "hi", "operator", author_id="bob"))
        first, second = await tap.wait_for(CommandRejected, count=2)
        assert (first.command_id, first.visitor_id, first.operator_id) == (
            intruder.command_id,
            "v-eve",
            None,
        )
        assert first.reason == "no such session of yours"
        assert (second.operator_id, second.reason) == ("bob", "no such session of yours")
        assert tap.of(ChatMessagePosted) == []


async def test_hold_resume_end_with_the_wrong_steps_rejected(site_id: str) -> None:
    app = session_service_app()
    async with Tap(site_id) as tap, running(app), read_api(app) as http:
        chat = await start_chat(site_id)
        path = f"/v1/sites/{site_id}/sessions/{chat.session_id}"
        await until_found(http, path)
        ids = {"site_id": site_id, "session_id": chat.session_id}
        await publish(ResumeChat(**ids, operator_id="ann"))  # not on hold
        await publish(HoldChat(**ids, operator_id="bob"))  # not bob's
        await publish(HoldChat(**ids, operator_id="ann"))
        [held] = await tap.wait_for(ChatHeld)
        assert (held.session_id, held.operator_id, held.visitor_id) == (
            chat.session_id,
            "ann",
            "v-ada",
        )
        assert (await http.get(path)).json()["status"] == "on_hold"
        await publish(say(chat, "one moment please", "operator"))  # allowed while held
        await tap.wait_for(ChatMessagePosted)
        await publish(ResumeChat(**ids, operator_id="ann"))
        await tap.wait_for(ChatResumed)
        await publish(EndChat(**ids, by="operator", by_id="ann"))
        [ended] = await tap.wait_for(ChatEnded)
        assert (ended.ended_by, ended.channel) == ("operator", Channel.CHAT)
        await publish(EndChat(**ids, by="visitor", by_id="v-ada"))  # too late
        await publish(say(chat, "hello?"))
        rejected = await tap.wait_for(CommandRejected, count=4)
        assert [(r.command_type, r.reason) for r in rejected] == [
            ("ResumeChat", "the session is not on hold"),
            ("HoldChat", "no such session of yours"),
            ("EndChat", "the session has ended already"),
            ("PostChatMessage", "the session has ended"),
        ]
        view = (await http.get(path)).json()
        assert (view["status"], view["ended_by"], view["last_seq"]) == ("ended", "operator", 1)
        assert len(tap.of(ChatEnded)) == 1


async def test_a_visitor_gone_past_the_grace_ends_the_chat_through_the_delay_queue(
    site_id: str,
) -> None:
    app = session_service_app(visitor_grace_seconds=0.5)
    async with Tap(site_id) as tap, running(app), read_api(app) as http:
        chat = await start_chat(site_id)
        await until_found(http, f"/v1/sites/{site_id}/sessions/{chat.session_id}")
        gone_at = time.monotonic()
        await publish(VisitorDisconnected(site_id=site_id, visitor_id="v-ada"))
        [ended] = await tap.wait_for(ChatEnded, timeout=5)
        assert time.monotonic() - gone_at >= 0.5
        assert (ended.session_id, ended.ended_by) == (chat.session_id, "visitor_gone")
        view = (await http.get(f"/v1/sites/{site_id}/visitors/v-ada/session")).json()
        assert (view["status"], view["ended_by"]) == ("ended", "visitor_gone")


async def test_a_visitor_back_within_the_grace_keeps_the_chat(site_id: str) -> None:
    app = session_service_app(visitor_grace_seconds=0.5)
    async with Tap(site_id) as tap, running(app), read_api(app) as http:
        chat = await start_chat(site_id)
        await until_found(http, f"/v1/sites/{site_id}/sessions/{chat.session_id}")
        await publish(VisitorDisconnected(site_id=site_id, visitor_id="v-ada"))
        await asyncio.sleep(0.1)
        await publish(VisitorReconnected(site_id=site_id, visitor_id="v-ada"))
        await asyncio.sleep(1.2)  # well past the grace: the check came back and found it here
        assert tap.of(ChatEnded) == []
        view = (await http.get(f"/v1/sites/{site_id}/sessions/{chat.session_id}")).json()
        assert view["status"] == "active"
        # and it still works: a later absence does end it
        await publish(VisitorDisconnected(site_id=site_id, visitor_id="v-ada"))
        [ended] = await tap.wait_for(ChatEnded, timeout=5)
        assert ended.ended_by == "visitor_gone"


async def test_the_read_api_of_the_running_service(site_id: str) -> None:
    app = session_service_app()
    async with Tap(site_id) as tap, running(app), read_api(app) as http:
        ada = await start_chat(site_id, "v-ada")
        bo = await start_chat(site_id, "v-bo")
        ended = await start_chat(site_id, "v-cy")
        for chat in (ada, bo, ended):
            await until_found(http, f"/v1/sites/{site_id}/sessions/{chat.session_id}")
        for n in range(3):
            for chat in (ada, bo, ended):
                await publish(say(chat, f"{chat.visitor_id} #{n}"))
                await asyncio.sleep(0.005)  # distinct instants: overview order is by time
        await tap.wait_for(ChatMessagePosted, count=9)
        await publish(HoldChat(site_id=site_id, session_id=bo.session_id, operator_id="ann"))
        await publish(
            EndChat(site_id=site_id, session_id=ended.session_id, by="visitor", by_id="v-cy")
        )
        await tap.wait_for(ChatEnded)

        mine = (await http.get(f"/v1/sites/{site_id}/operators/ann/sessions")).json()
        assert [(s["visitor_id"], s["status"]) for s in mine["sessions"]] == [
            ("v-ada", "active"),
            ("v-bo", "on_hold"),
        ]
        route = f"/v1/sites/{site_id}/operators/ann/messages"
        page = (await http.get(route, params={"page": 1, "page_size": 4})).json()
        assert page["total"] == 6
        assert [m["text"] for m in page["messages"]] == [
            "v-bo #2",
            "v-ada #2",
            "v-bo #1",
            "v-ada #1",
        ]
        page = (await http.get(route, params={"page": 2, "page_size": 4})).json()
        assert [m["text"] for m in page["messages"]] == ["v-bo #0", "v-ada #0"]

        unknown = await http.get(f"/v1/sites/{site_id}/sessions/{uuid.uuid4()}")
        assert unknown.status_code == 404 and "no session" in unknown.json()["detail"]
        async with read_api(app, token=None) as anonymous:
            refused = await anonymous.get(f"/v1/sites/{site_id}/operators/ann/sessions")
            assert refused.status_code == 401
        metrics = (await http.get("/metrics")).text
        assert f'livechat_chat_sessions{{site="{site_id}",status="on_hold"}} 1.0' in metrics


async def test_the_session_services_input_is_a_quorum_queue_with_one_active_consumer() -> None:
    async with running(session_service_app()):
        connection = await aio_pika.connect(AMQP_URL)
        async with connection:
            channel = await connection.channel()
            arguments: dict[str, Any] = {
                "x-queue-type": "quorum",
                "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
                "x-dead-letter-routing-key": SESSION_SERVICE.service,
                "x-delivery-limit": DELIVERY_LIMIT,
                "x-single-active-consumer": True,
            }
            # Redeclaring with the same arguments succeeds only if they match exactly.
            await channel.declare_queue(
                SESSION_SERVICE.input_queue, durable=True, arguments=arguments
            )
            with pytest.raises(ChannelPreconditionFailed):
                await channel.declare_queue(
                    SESSION_SERVICE.input_queue,
                    durable=True,
                    arguments={**arguments, "x-single-active-consumer": False},
                )
