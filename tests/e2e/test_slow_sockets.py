"""Sockets that stop reading cannot freeze delivery for the others on the same gateway replica.

A real gateway process, real TCP sockets: twenty sockets of one visitor do the WebSocket
handshake and never read again (tiny receive buffers, so the kernel's buffers fill), a flood of
large messages goes to that visitor, and an operator on the same replica still gets its offer
at once; the stuck sockets are closed.
"""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aio_pika
import pytest
from livechat_shared.contracts import Channel, ChatMessagePosted, ChatOffered, Message
from livechat_shared.contracts.services import OFFLINE_MESSAGES, QUEUE_MANAGER, SESSION_SERVICE
from livechat_shared.contracts.topology import EVENTS_EXCHANGE, routing_key
from visitor_gateway.domain.auth import Caller, issue

from tests.support.broker import AMQP_URL, declare_service_queues
from tests.support.clients import TOKEN_SECRET, Operator, Party
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.e2e

FLOOD = 1500
"""Messages of 5 KB to the stuck visitor: more than the kernel buffers of one socket hold."""


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    logs: Path = tmp_path_factory.mktemp("slow-sockets")
    env = {
        "VISITOR_GATEWAY_TOKEN_SECRET": TOKEN_SECRET,
        "VISITOR_GATEWAY_LOG_LEVEL": "WARNING",
        "VISITOR_GATEWAY_SOCKET_BUFFER_FRAMES": "64",
        "VISITOR_GATEWAY_SOCKET_SEND_TIMEOUT_SECONDS": "3",
    }
    # a gateway is ready only once the services it sends commands to have their queues
    asyncio.run(declare_service_queues(AMQP_URL, QUEUE_MANAGER, SESSION_SERVICE, OFFLINE_MESSAGES))
    process = ServiceProcess("visitor_gateway", env, logs / "gateway.log")
    try:
        yield process.start().url
    finally:
        process.stop()


@pytest.fixture
async def people() -> AsyncIterator[list[Party]]:
    created: list[Party] = []
    yield created
    for party in created:
        await party.close()


def _stuck_socket(base_url: str, token: str, path: str) -> socket.socket:
    """A WebSocket client that completes the handshake and then never reads."""
    host, port = base_url.removeprefix("http://").split(":")
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: a tiny window
    raw.connect((host, int(port)))
    key = base64.b64encode(os.urandom(16)).decode()
    raw.sendall(
        (
            f"GET {path}?token={token} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    response = b""
    while b"\r\n\r\n" not in response:
        response += raw.recv(1)  # byte by byte: leave every frame after it unread
    assert response.startswith(b"HTTP/1.1 101"), response
    return raw


def _read_until_closed(raw: socket.socket, deadline: float) -> bool:
    """Drain what the gateway sent; True once the gateway closed the connection."""
    while time.monotonic() < deadline:
        raw.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            if not raw.recv(1 << 16):
                return True
        except TimeoutError:
            return False
        except ConnectionResetError:
            return True
    return False


async def _publish_all(messages: list[Message]) -> None:
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.declare_exchange(
            EVENTS_EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True
        )
        for start in range(0, len(messages), 200):
            await asyncio.gather(
                *(
                    exchange.publish(
                        aio_pika.Message(m.model_dump_json().encode()), routing_key=routing_key(m)
                    )
                    for m in messages[start : start + 200]
                )
            )


async def test_sockets_that_stop_reading_do_not_hold_up_an_operator_on_the_same_replica(
    gateway: str, site_id: str, people: list[Party]
) -> None:
    ann = await Operator.sign_in(gateway, site_id, "ann")
    people.append(ann)
    visitor_token = issue(
        TOKEN_SECRET, Caller(role="visitor", site_id=site_id, subject="v-stuck"), timedelta(hours=1)
    )
    stuck = [_stuck_socket(gateway, visitor_token, "/v1/visitor/ws") for _ in range(20)]
    try:
        session_id = uuid.uuid4()
        flood: list[Message] = [
            ChatMessagePosted(
                site_id=site_id,
                session_id=session_id,
                seq=seq,
                author="operator",
                client_message_id=f"m{seq}",
                text="x" * 5000,
                visitor_id="v-stuck",
                operator_id="bob",
            )
            for seq in range(1, FLOOD + 1)
        ]
        now = datetime.now(UTC)
        offer = ChatOffered(
            site_id=site_id,
            offer_id=uuid.uuid4(),
            visitor_id="v-waiting",
            operator_id="ann",
            channel=Channel.CHAT,
            waiting_since=now,
            expires_at=now + timedelta(seconds=30),
        )
        await _publish_all([*flood, offer])  # the offer queued behind the whole flood

        await ann.inbox.wait_for("ChatOffered", offer_id=str(offer.offer_id), within=10)

        deadline = time.monotonic() + 30
        closed = await asyncio.to_thread(
            lambda: [_read_until_closed(raw, deadline) for raw in stuck]
        )
        assert all(closed), f"{closed.count(False)} stuck sockets were left open"
    finally:
        for raw in stuck:
            raw.close()
