"""The bench's own RabbitMQ vhost, created and deleted around a run, and fast confirmed publishing.

A vhost of its own keeps the bench's queues, backlogs and load away from anyone else's tests on
the same broker; deleting it removes everything the run declared.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import NamedTuple
from urllib.parse import quote, urlsplit, urlunsplit

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange
from livechat_shared.contracts import Message
from livechat_shared.contracts.partitions import PARTITION_HEADER, partition_of
from livechat_shared.contracts.topology import COMMANDS_EXCHANGE, EVENTS_EXCHANGE, routing_key

DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"


def with_vhost(url: str, vhost: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + quote(vhost, safe=""), parts.query, ""))


def _rabbitmqctl(*args: str) -> None:
    command = shutil.which("rabbitmqctl")
    if command is None:
        raise RuntimeError(
            "rabbitmqctl is not on PATH: pass --amqp-url with a vhost of your own instead"
        )
    subprocess.run([command, "-q", *args], check=True, capture_output=True, timeout=60)


@contextmanager
def temporary_vhost(url: str) -> Iterator[str]:
    """A fresh vhost on the broker at `url` (a unique name, so runs never collide); yields its URL."""
    name = f"livechat-bench-{uuid.uuid4().hex[:8]}"
    user = urlsplit(url).username or "guest"
    _rabbitmqctl("add_vhost", name)
    try:
        _rabbitmqctl("set_permissions", "-p", name, user, ".*", ".*", ".*")
        yield with_vhost(url, name)
    finally:
        _rabbitmqctl("delete_vhost", name)


def amqp_message(
    body: bytes, message_id: str | None = None, headers: dict[str, str] | None = None
) -> aio_pika.Message:
    """Persistent, as the services publish."""
    return aio_pika.Message(
        body,
        content_type="application/json",
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=message_id,
        headers=dict(headers) if headers else None,
    )


async def livechat_exchanges(channel: AbstractChannel) -> dict[str, AbstractExchange]:
    found = {}
    for name in (EVENTS_EXCHANGE, COMMANDS_EXCHANGE):
        found[name] = await channel.declare_exchange(
            name, aio_pika.ExchangeType.TOPIC, durable=True
        )
    return found


class Wire(NamedTuple):
    exchange: str
    key: str
    body: bytes
    headers: dict[str, str] | None = None


def encode(message: Message, partitions: int = 1) -> Wire:
    """A contract as the services put it on the wire: with more than one partition, its site's
    partition in the header the partitions exchanges route on (as `Bus.publish` sets it)."""
    exchange = EVENTS_EXCHANGE if message.kind == "event" else COMMANDS_EXCHANGE
    headers = None
    if partitions > 1:
        headers = {PARTITION_HEADER: str(partition_of(message.site_id, partitions))}
    return Wire(exchange, routing_key(message), message.model_dump_json().encode(), headers)


async def publish_all(channel: AbstractChannel, messages: Iterable[Wire], window: int = 512) -> int:
    """Publish with at most `window` unconfirmed messages in flight; returns how many went out.

    The channel must have publisher confirms on: every message is confirmed when this returns.
    """
    exchanges = await livechat_exchanges(channel)
    pending: set[asyncio.Future[object]] = set()
    sent = 0
    try:
        for exchange, key, body, headers in messages:
            if len(pending) >= window:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for future in done:
                    future.result()
            publish = exchanges[exchange].publish(amqp_message(body, headers=headers), key)
            pending.add(asyncio.ensure_future(publish))
            sent += 1
        await asyncio.gather(*pending)
    finally:
        # Cancelled (the memory phase stops feeding once it has measured): the publishes in
        # flight are dropped quietly, not left to fail on the closing channel.
        for future in pending:
            future.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    return sent
