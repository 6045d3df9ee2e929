"""After a broker restart the gateway tells every socket to resync, and delivers again.

Its own RabbitMQ node (never the shared one), restarted under a running gateway process.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aio_pika
import pytest
from livechat_shared.contracts import Channel, ChatOffered
from livechat_shared.contracts.services import OFFLINE_MESSAGES, QUEUE_MANAGER, SESSION_SERVICE
from livechat_shared.contracts.topology import EVENTS_EXCHANGE, routing_key

from tests.support.broker import declare_service_queues
from tests.support.clients import TOKEN_SECRET, Operator, Visitor
from tests.support.processes import ServiceProcess
from tests.support.rabbit_node import RabbitNode

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def node() -> Iterator[RabbitNode]:
    node = RabbitNode("sockets-resync").start()
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture(scope="module")
def gateway(node: RabbitNode, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    logs: Path = tmp_path_factory.mktemp("resync")
    env = {
        "AMQP_URL": node.url,
        "VISITOR_GATEWAY_TOKEN_SECRET": TOKEN_SECRET,
        "VISITOR_GATEWAY_LOG_LEVEL": "WARNING",
    }
    # the gateway is ready only once the services it sends commands to have their queues
    asyncio.run(declare_service_queues(node.url, QUEUE_MANAGER, SESSION_SERVICE, OFFLINE_MESSAGES))
    process = ServiceProcess("visitor_gateway", env, logs / "gateway.log")
    try:
        yield process.start().url
    finally:
        process.stop()


async def _offer(node: RabbitNode, site_id: str, operator_id: str) -> ChatOffered:
    now = datetime.now(UTC)
    offer = ChatOffered(
        site_id=site_id,
        offer_id=uuid.uuid4(),
        visitor_id="v-waiting",
        operator_id=operator_id,
        channel=Channel.CHAT,
        waiting_since=now,
        expires_at=now + timedelta(seconds=30),
    )
    connection = await aio_pika.connect(node.url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.declare_exchange(
            EVENTS_EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True
        )
        await exchange.publish(
            aio_pika.Message(offer.model_dump_json().encode()), routing_key=routing_key(offer)
        )
    return offer


async def test_after_a_broker_restart_every_socket_is_told_to_resync_and_delivery_resumes(
    node: RabbitNode, gateway: str, site_id: str
) -> None:
    ann = await Operator.sign_in(gateway, site_id, "ann")
    ada = await Visitor.arrive(gateway, site_id)
    try:
        await asyncio.to_thread(node.restart, 1.0)
        [resync] = await ann.inbox.wait_for("Resync", within=30)
        assert "GET /v1/operator/sessions" in resync["reread"]
        [resync] = await ada.inbox.wait_for("Resync", within=10)
        assert resync["reread"] == ["GET /v1/visitor/session"]
        offer = await _offer(node, site_id, "ann")  # the replica's queue is back
        await ann.inbox.wait_for("ChatOffered", offer_id=str(offer.offer_id), within=10)
    finally:
        await ann.close()
        await ada.close()
