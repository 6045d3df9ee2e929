"""A broker restart under a consumer and under the gateway, on a private RabbitMQ node.

Before: the gateway answered 500 to about half the chat requests of an outage, /readyz turned
green before the consumers were back, and nothing told a service that its consumer had
re-consumed. A request nobody would receive (a deleted `.input` queue) got 202 and vanished.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from uuid import uuid4

import aio_pika
import httpx
import pytest
import uvicorn
import websockets
from fastapi import FastAPI
from faststream.rabbit import RabbitBroker
from livechat_shared.contracts import AcceptOffer, Message, VisitorLeftQueue
from livechat_shared.contracts.services import (
    OFFLINE_MESSAGES,
    QUEUE_MANAGER,
    SESSION_SERVICE,
    SUMMARY_PROJECTOR,
    VISITOR_GATEWAY,
)
from livechat_shared.runtime.broker import Bus, NotRouted, build_broker
from livechat_shared.runtime.metrics import ServiceMetrics
from visitor_gateway.main import create_app
from visitor_gateway.settings import VisitorGatewaySettings

from tests.support.apps import running
from tests.support.broker import AMQP_URL
from tests.support.consuming import consuming, publish_quickly, throwaway, wait_until
from tests.support.processes import free_port
from tests.support.rabbit_node import RabbitNode

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


@pytest.fixture(scope="module")
def node() -> Iterator[RabbitNode]:
    if shutil.which("rabbitmq-server") is None:
        pytest.skip("rabbitmq-server is not installed here")
    started = RabbitNode("consumer-outage").start()
    try:
        yield started
    finally:
        started.stop()


async def restart(node: RabbitNode, down_seconds: float) -> None:
    await asyncio.to_thread(node.restart, down_seconds)


def consumers_of(node: RabbitNode, queue: str) -> int:
    rows = json.loads(node.ctl("list_consumers", "queue_name", "-q", "--formatter", "json"))
    return sum(1 for row in rows if row["queue_name"] == queue)


async def test_the_consumer_consumes_again_after_a_broker_restart_once_and_says_so(
    node: RabbitNode, site_id: str
) -> None:
    handled: list[str] = []
    reconnects = 0

    async def handle(message: Message) -> None:
        assert isinstance(message, VisitorLeftQueue)
        handled.append(message.visitor_id)

    async def reconnected() -> None:
        nonlocal reconnects
        reconnects += 1

    queues = throwaway(single_active_consumer=True)
    async with consuming(queues, handle, url=node.url) as consumer:
        consumer.bus.on_reconnected(reconnected)
        await publish_quickly([VisitorLeftQueue(site_id=site_id, visitor_id="before")], node.url)
        await wait_until(lambda: handled == ["before"])

        await restart(node, down_seconds=1.0)
        await wait_until(lambda: consumer.consuming and reconnects == 1, timeout=30)

        await publish_quickly([VisitorLeftQueue(site_id=site_id, visitor_id="after")], node.url)
        await wait_until(lambda: handled[-1] == "after")
        listed = consumers_of(node, queues.input_queue)
        assert listed == 1, node.ctl("list_consumers", "-q")
    assert handled == ["before", "after"]


async def declare_owners(url: str) -> None:
    """The input queues the gateway sends to (and the projector's, which takes every event), as
    their services declare them."""
    broker = RabbitBroker(url)
    await broker.connect()
    try:
        for queues in (QUEUE_MANAGER, SESSION_SERVICE, OFFLINE_MESSAGES, SUMMARY_PROJECTOR):
            await Bus(broker, queues).declare()
    finally:
        await broker.stop()


def gateway_app(url: str) -> FastAPI:
    settings = VisitorGatewaySettings.model_validate({"amqp_url": url, "log_level": "WARNING"})
    return create_app(settings)


async def visitor_token(http: httpx.AsyncClient, site_id: str) -> dict[str, str]:
    identity = (await http.post(f"/v1/sites/{site_id}/visitors")).json()
    return {"Authorization": f"Bearer {identity['token']}"}


async def ask_for_chat(http: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
    return await http.post("/v1/visitor/chat-requests", json={}, headers=headers)


async def test_during_an_outage_the_gateway_answers_503_with_retry_after_and_never_500(
    node: RabbitNode, site_id: str
) -> None:
    await declare_owners(node.url)
    app = gateway_app(node.url)
    async with (
        running(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gateway", timeout=10
        ) as http,
    ):
        visitor = await visitor_token(http, site_id)
        assert (await ask_for_chat(http, visitor)).status_code == 202
        assert (await http.get("/readyz")).status_code == 200

        await asyncio.to_thread(node.stop_app)
        try:
            answers = []
            for _ in range(10):
                answers.append(await ask_for_chat(http, visitor))
                await asyncio.sleep(0.1)
            readiness = await http.get("/readyz")
        finally:
            await asyncio.to_thread(node.start_app)

        assert {a.status_code for a in answers} == {503}
        assert all(a.headers.get("Retry-After") for a in answers)
        assert all("detail" in a.json() for a in answers)
        assert readiness.status_code == 503

        async def ready() -> bool:
            return (await http.get("/readyz")).status_code == 200

        async with asyncio.timeout(30):
            while True:
                if await ready():
                    break
                await asyncio.sleep(0.1)
        body = (await http.get("/readyz")).json()
        assert body["consuming"] and body["broker"]
        assert (await ask_for_chat(http, visitor)).status_code == 202


async def test_a_chat_request_its_owner_would_not_receive_is_a_503_not_a_202(
    node: RabbitNode, site_id: str
) -> None:
    await declare_owners(node.url)
    connection = await aio_pika.connect(node.url)
    async with connection:
        channel = await connection.channel()
        # The documented upgrade step. VisitorWaiting still reaches the projector's queue, but
        # the queue manager, which must route the visitor, would never see it.
        await channel.queue_delete(QUEUE_MANAGER.input_queue)
    app = gateway_app(node.url)
    try:
        async with (
            running(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://gateway", timeout=10
            ) as http,
        ):
            visitor = await visitor_token(http, site_id)
            refused = await ask_for_chat(http, visitor)
            readiness = await http.get("/readyz")
        assert refused.status_code == 503
        assert refused.headers.get("Retry-After")
        assert readiness.status_code == 503
    finally:
        await declare_owners(node.url)


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """The app on a real socket (its lifespan run by `running`): WebSockets need one."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        await wait_until(lambda: server.started, timeout=10)
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def test_a_visitor_opening_a_socket_during_an_outage_is_told_to_try_again_later(
    node: RabbitNode, site_id: str
) -> None:
    await declare_owners(node.url)
    app = gateway_app(node.url)
    async with running(app), serving(app) as address:
        async with httpx.AsyncClient(base_url=f"http://{address}") as http:
            identity = (await http.post(f"/v1/sites/{site_id}/visitors")).json()
        await asyncio.to_thread(node.stop_app)
        try:
            url = f"ws://{address}/v1/visitor/ws?token={identity['token']}"
            async with websockets.connect(url) as socket:
                assert json.loads(await socket.recv())["type"] == "Connected"
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    await socket.recv()
        finally:
            await asyncio.to_thread(node.start_app)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1013


async def test_a_message_no_queue_receives_is_refused_by_the_gateways_bus(node: RabbitNode) -> None:
    """`mandatory` publishing: on a broker where nothing is bound (a first deploy), NotRouted."""
    await asyncio.to_thread(node.ctl, "add_vhost", "bare")
    await asyncio.to_thread(node.ctl, "set_permissions", "-p", "bare", "guest", ".*", ".*", ".*")
    url = node.url + "bare"
    metrics = ServiceMetrics("visitor-gateway")
    broker = build_broker(url, 8, metrics.registry, "visitor-gateway")
    await broker.connect()
    try:
        bus = Bus(broker, VISITOR_GATEWAY, answers_callers=True, metrics=metrics)
        await bus.declare()  # its own queue and the exchanges; nobody else's queue
        with pytest.raises(NotRouted):
            await bus.publish(AcceptOffer(site_id="acme", operator_id="ann", offer_id=uuid4()))
        refused = {"service": VISITOR_GATEWAY.service, "outcome": "not_routed"}
        assert metrics.registry.get_sample_value("livechat_published_messages_total", refused) == 1
    finally:
        await broker.stop()


async def test_the_consumer_starts_over_when_its_queue_is_deleted_under_it(site_id: str) -> None:
    """The upgrade step deletes an `.input` queue: the broker cancels the consumer, which
    declares the queue again and consumes, instead of waiting on a channel that delivers nothing."""
    handled: list[str] = []

    async def handle(message: Message) -> None:
        assert isinstance(message, VisitorLeftQueue)
        handled.append(message.visitor_id)

    queues = throwaway(single_active_consumer=True)
    async with consuming(queues, handle) as consumer:
        connection = await aio_pika.connect(AMQP_URL)
        async with connection:
            await (await connection.channel()).queue_delete(queues.input_queue)
        await wait_until(lambda: consumer.reconnects == 1 and consumer.consuming)
        await publish_quickly([VisitorLeftQueue(site_id=site_id, visitor_id="after")])
        await wait_until(lambda: handled == ["after"])
