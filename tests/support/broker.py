"""Test helpers on the real RabbitMQ: a tap that records what is published, and raw publishing."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import Any, TypeVar

import aio_pika
from aio_pika.abc import AbstractIncomingMessage
from faststream.rabbit import RabbitBroker
from livechat_shared.contracts import Message, parse_message
from livechat_shared.contracts.topology import (
    COMMANDS_EXCHANGE,
    EVENTS_EXCHANGE,
    ServiceQueues,
    routing_key,
)
from livechat_shared.runtime.broker import Bus

AMQP_URL = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")

M = TypeVar("M", bound=Message)


class Tap:
    """An exclusive queue bound to our exchanges, collecting every message of one site."""

    def __init__(self, site_id: str, url: str | None = None) -> None:
        self.site_id = site_id
        self.url = url or AMQP_URL
        self.messages: list[Message] = []
        self._changed = asyncio.Condition()
        self._connection: aio_pika.abc.AbstractRobustConnection | None = None

    async def __aenter__(self) -> Tap:
        self._connection = await aio_pika.connect_robust(self.url)
        channel = await self._connection.channel()
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        for name in (EVENTS_EXCHANGE, COMMANDS_EXCHANGE):
            exchange = await channel.declare_exchange(
                name, aio_pika.ExchangeType.TOPIC, durable=True
            )
            await queue.bind(exchange, routing_key=f"*.*.{self.site_id}")
        await queue.consume(self._on_message, no_ack=True)
        return self

    async def __aexit__(self, *_: Any) -> None:
        if self._connection is not None:
            await self._connection.close()

    async def _on_message(self, raw: AbstractIncomingMessage) -> None:
        message = parse_message(raw.body)
        async with self._changed:
            self.messages.append(message)
            self._changed.notify_all()

    def of(self, message_type: type[M]) -> list[M]:
        return [m for m in self.messages if isinstance(m, message_type)]

    async def wait_for(
        self,
        message_type: type[M],
        where: Callable[[M], bool] = lambda _: True,
        count: int = 1,
        timeout: float = 10.0,
    ) -> list[M]:
        """Wait until `count` messages of the type match; return them in arrival order."""

        def matching() -> list[M]:
            return [m for m in self.of(message_type) if where(m)]

        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: len(matching()) >= count)
        return matching()[:count]


async def publish(message: Message, url: str | None = None) -> None:
    """Publish a contract the way the services do (persistent, confirmed)."""
    connection = await aio_pika.connect(url or AMQP_URL)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        name = EVENTS_EXCHANGE if message.kind == "event" else COMMANDS_EXCHANGE
        exchange = await channel.declare_exchange(name, aio_pika.ExchangeType.TOPIC, durable=True)
        await exchange.publish(
            aio_pika.Message(
                message.model_dump_json().encode(),
                content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            ),
            routing_key=routing_key(message),
        )


async def declare_service_queues(url: str, *services: ServiceQueues) -> None:
    """The exchanges and input queues of `services`, declared as the services declare them (a
    gateway is ready only once the services it sends commands to have their input queue)."""
    broker = RabbitBroker(url)
    await broker.connect()
    try:
        for queues in services:
            await Bus(broker, queues).declare()
    finally:
        await broker.stop()
