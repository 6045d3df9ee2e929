"""SIGKILL a service mid-flow and start it again on the same embedded store: nothing is forgotten.

Each service runs as its own process without MONGO_URL, on SQLite files in the test's folder;
the queue manager runs in this process where the flow needs it.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import aio_pika
import httpx
import pytest
from livechat_shared.contracts import (
    AcceptOffer,
    ChatEnded,
    ChatMessagePosted,
    ChatOffered,
    ChatStarted,
    CommandRejected,
    EndChat,
    Message,
    MessageLeft,
    OperatorPresenceChanged,
    PostChatMessage,
    Presence,
    SetOperatorPresence,
    VisitorWaiting,
)
from livechat_shared.contracts.topology import COMMANDS_EXCHANGE, EVENTS_EXCHANGE, routing_key
from livechat_shared.runtime.internal_api import INTERNAL_TOKEN_HEADER

from tests.support.apps import queue_manager_app, running
from tests.support.broker import AMQP_URL, Tap
from tests.support.embedded import embedded_store_env
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.integration

TOKEN = "embedded-restart-token-0123456789"
PATIENCE = 30.0
"""Seconds any one step may take: generous, for a loaded machine; passing steps take far less."""


def service_env(folder: Path) -> dict[str, str]:
    return {
        **embedded_store_env(folder),
        "MONGO_URL": "",
        "INTERNAL_API_TOKEN": TOKEN,
        "SESSION_SERVICE_LOG_LEVEL": "WARNING",
        "OFFLINE_MESSAGES_LOG_LEVEL": "WARNING",
        "SUMMARY_PROJECTOR_LOG_LEVEL": "WARNING",
    }


async def start(package: str, folder: Path) -> ServiceProcess:
    process = ServiceProcess(package, service_env(folder), folder / f"{package}.log")
    return await asyncio.to_thread(process.start, 2 * PATIENCE)


async def publish_all(messages: Iterable[Message]) -> None:
    """Publish on one connection, confirmed, the way the services do."""
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchanges = {
            name: await channel.declare_exchange(name, aio_pika.ExchangeType.TOPIC, durable=True)
            for name in (EVENTS_EXCHANGE, COMMANDS_EXCHANGE)
        }
        for message in messages:
            exchange = exchanges[EVENTS_EXCHANGE if message.kind == "event" else COMMANDS_EXCHANGE]
            await exchange.publish(
                aio_pika.Message(
                    message.model_dump_json().encode(),
                    content_type="application/json",
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                ),
                routing_key=routing_key(message),
            )


async def until(condition: Callable[[], Any], what: str, timeout: float = PATIENCE) -> None:
    """Poll a condition (sync or async) until it holds; fail naming `what` if it never does."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        held = condition()
        if asyncio.iscoroutine(held):
            held = await held
        if held:
            return
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"not within {timeout} s: {what}")
        await asyncio.sleep(0.05)


async def operators_online(tap: Tap, site_id: str, operators: list[str]) -> None:
    await publish_all(
        SetOperatorPresence(site_id=site_id, operator_id=o, presence=Presence.ONLINE)
        for o in operators
    )
    await tap.wait_for(OperatorPresenceChanged, count=len(operators), timeout=PATIENCE)


async def start_chats(tap: Tap, site_id: str, visitors: list[str]) -> list[ChatStarted]:
    """Visitors wait; every offer made to them is accepted; their chats start."""
    await publish_all(VisitorWaiting(site_id=site_id, visitor_id=v) for v in visitors)
    offers = await tap.wait_for(
        ChatOffered, lambda o: o.visitor_id in visitors, len(visitors), timeout=PATIENCE
    )
    await publish_all(
        AcceptOffer(site_id=site_id, offer_id=o.offer_id, operator_id=o.operator_id) for o in offers
    )
    return await tap.wait_for(
        ChatStarted, lambda s: s.visitor_id in visitors, len(visitors), timeout=PATIENCE
    )


def say(chat: ChatStarted, text: str, client_message_id: str) -> PostChatMessage:
    return PostChatMessage(
        site_id=chat.site_id,
        session_id=chat.session_id,
        author="visitor",
        author_id=chat.visitor_id,
        client_message_id=client_message_id,
        text=text,
    )


async def test_every_chat_started_before_a_killed_session_service_can_still_be_ended(
    site_id: str, tmp_path: Path
) -> None:
    operators = [f"op{n}" for n in range(4)]
    visitors = [f"v{n}" for n in range(12)]  # 4 operators x 3 chats: every slot taken
    async with Tap(site_id) as tap, running(queue_manager_app(max_chats=3)):
        sessions = await start("session_service", tmp_path)
        try:
            with pytest.raises(RuntimeError) as refused:  # one process per embedded store
                await start("session_service", tmp_path)
            assert "session-service.sqlite3 is open in another process" in str(refused.value)
            await operators_online(tap, site_id, operators)
            chats = await start_chats(tap, site_id, visitors)
            await publish_all(say(chat, "hello", f"{chat.session_id}-1") for chat in chats)
            # every session is stored once each chat has its first message numbered
            await tap.wait_for(ChatMessagePosted, count=len(chats), timeout=PATIENCE)
            await publish_all(say(chat, "still there?", f"{chat.session_id}-2") for chat in chats)
            # killed in the middle of the second round
            await tap.wait_for(ChatMessagePosted, count=len(chats) + 1, timeout=PATIENCE)
        finally:
            sessions.kill()

        sessions = await start("session_service", tmp_path)
        try:

            def posted() -> set[tuple[uuid.UUID, int]]:
                return {(m.session_id, m.seq) for m in tap.of(ChatMessagePosted)}

            await until(
                lambda: posted() == {(c.session_id, n) for c in chats for n in (1, 2)},
                "both messages of every chat numbered 1 and 2, once each",
            )
            await publish_all(
                EndChat(
                    site_id=site_id, session_id=c.session_id, by="operator", by_id=c.operator_id
                )
                for c in chats
            )
            await until(
                lambda: {e.session_id for e in tap.of(ChatEnded)} == {c.session_id for c in chats},
                "every started chat ended",
            )
            assert tap.of(CommandRejected) == []
            # The queue manager freed every slot: as many new visitors get a chat again.
            newcomers = [f"w{n}" for n in range(12)]
            assert len(await start_chats(tap, site_id, newcomers)) == len(newcomers)
        finally:
            sessions.stop()


async def test_a_killed_offline_messages_service_lists_every_message_left(
    site_id: str, tmp_path: Path
) -> None:
    left = [
        MessageLeft(
            site_id=site_id,
            offline_message_id=uuid.uuid4(),
            visitor_id=f"v{n}",
            name="Ada",
            email="ada@example.com",
            text=f"message {n}",
        )
        for n in range(40)
    ]

    async def listed(service: ServiceProcess) -> set[str]:
        async with httpx.AsyncClient(headers={INTERNAL_TOKEN_HEADER: TOKEN}) as http:
            response = await http.get(
                f"{service.url}/v1/sites/{site_id}/messages", params={"limit": 500}
            )
        response.raise_for_status()
        return {m["offline_message_id"] for m in response.json()["messages"]}

    offline = await start("offline_messages", tmp_path)
    try:
        await publish_all(left)
        await until(lambda: _at_least(listed(offline), 20), "half the messages stored")
    finally:
        offline.kill()  # the rest are in flight

    offline = await start("offline_messages", tmp_path)
    try:
        every = {str(m.offline_message_id) for m in left}
        await until(lambda: _equal(listed(offline), every), "every message left listed")
    finally:
        offline.stop()


async def _at_least(found: Any, count: int) -> bool:
    return len(await found) >= count


async def _equal(found: Any, expected: set[str]) -> bool:
    return bool(await found == expected)


async def test_a_killed_projector_shows_the_same_summary_and_rebuilds_an_empty_one(
    site_id: str, tmp_path: Path
) -> None:
    operators = [f"op{n}" for n in range(10)]
    visitors = [f"v{n}" for n in range(6)]
    headers = {INTERNAL_TOKEN_HEADER: TOKEN}

    async def seen(service: ServiceProcess) -> tuple[int, int]:
        async with httpx.AsyncClient(headers=headers) as http:
            summary = (await http.get(f"{service.url}/v1/sites/{site_id}/summary")).json()
        return summary["operators"]["online"], summary["in_progress"]["active"]

    async def readiness(service: ServiceProcess) -> dict[str, Any]:
        async with httpx.AsyncClient() as http:
            body: dict[str, Any] = (await http.get(f"{service.url}/readyz")).json()
            return body

    async with Tap(site_id) as tap, running(queue_manager_app(max_chats=3)):
        projector = await start("summary_projector", tmp_path)
        try:
            assert (await readiness(projector)).get("summary") == (
                "started empty: no event archive to rebuild from"
            )
            await operators_online(tap, site_id, operators)
            await start_chats(tap, site_id, visitors)
            truth = (len(operators), len(visitors))

            async def shows_truth(service: ServiceProcess = projector) -> bool:
                return await seen(service) == truth

            await until(shows_truth, f"operators online and chats in progress {truth}")
            await publish_all(  # in flight when it is killed: waiting, then offered
                VisitorWaiting(site_id=site_id, visitor_id=f"late{n}") for n in range(5)
            )
        finally:
            projector.kill()

        projector = await start("summary_projector", tmp_path)
        try:
            assert await seen(projector) == truth, "the same numbers from the first read"
            assert "summary" not in await readiness(projector)
        finally:
            projector.kill()

        # A read model lost beside its archive (or a file kept from before): rebuilt at start.
        with sqlite3.connect(tmp_path / "summary-projector.sqlite3") as db:
            db.execute("DELETE FROM communication_summary")
        projector = await start("summary_projector", tmp_path)
        try:
            assert await seen(projector) == truth
            assert (await readiness(projector))["summary"] == (
                "rebuilt from the event archive at start"
            )
        finally:
            projector.stop()
