"""The example subscriber on the real broker: prints each event once, then stops by itself."""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import uuid
from typing import Any
from urllib.parse import urlsplit

import aio_pika
import pytest
from livechat_shared.contracts import ChatOffered, Message, VisitorQueued
from livechat_shared.contracts.topology import EVENTS_EXCHANGE, routing_key

from scripts import gen_event_docs as gen
from tests.support.broker import AMQP_URL

pytestmark = pytest.mark.integration

SUBSCRIBER = gen.ROOT / "examples" / "subscriber.py"


def _broker_answers() -> bool:
    url = urlsplit(AMQP_URL)
    try:
        with socket.create_connection((url.hostname or "127.0.0.1", url.port or 5672), timeout=1):
            return True
    except OSError:
        return False


def _for_site(message: Message, site_id: str) -> Message:
    return message.model_copy(update={"site_id": site_id})


async def test_example_subscriber_prints_each_event_once_and_stops_by_itself() -> None:
    if not _broker_answers():
        pytest.skip(f"no RabbitMQ at {AMQP_URL} (make rabbitmq starts the local one)")
    site_id = f"docs-{uuid.uuid4().hex[:8]}"
    queued = _for_site(gen.sample(VisitorQueued), site_id)
    offered = _for_site(gen.sample(ChatOffered), site_id)
    connection = await aio_pika.connect_robust(AMQP_URL)
    async with connection:
        # Our services declare the exchange; the subscriber only looks it up.
        channel = await connection.channel()
        await channel.declare_exchange(EVENTS_EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True)
    # No --queue: the default, a temporary queue.
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(SUBSCRIBER),
        *("--url", AMQP_URL, "--site", site_id, "--max", "2", "--seconds", "20"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stderr is not None
        ready = await asyncio.wait_for(process.stderr.readline(), timeout=20)
        assert b"consuming" in ready, ready
        queue_name = ready.decode().split()[1]
        connection = await aio_pika.connect_robust(AMQP_URL)
        async with connection:
            channel = await connection.channel()
            exchange = await channel.get_exchange(EVENTS_EXCHANGE)

            async def publish(body: dict[str, Any], key: str) -> None:
                await exchange.publish(aio_pika.Message(json.dumps(body).encode()), routing_key=key)

            first = json.loads(queued.model_dump_json())
            await publish(first, routing_key(queued))
            await publish(first, routing_key(queued))  # a redelivery: same event_id
            await publish(
                {**first, "event_id": str(uuid.uuid4()), "schema_version": 2},
                "event.VisitorQueued." + site_id,
            )
            newer = {**json.loads(offered.model_dump_json()), "a_field_added_later": True}
            await publish(newer, routing_key(offered))
        out, _ = await asyncio.wait_for(process.communicate(), timeout=20)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0
    printed = [json.loads(line) for line in out.decode().splitlines()]
    assert [e["event_id"] for e in printed] == [str(queued.message_id), str(offered.message_id)]
    # Nothing is left behind to fill up: the temporary queue went with the subscriber.
    connection = await aio_pika.connect_robust(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        with pytest.raises(aio_pika.exceptions.ChannelNotFoundEntity):
            await channel.declare_queue(queue_name, passive=True)
