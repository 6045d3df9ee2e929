"""The one subscriber shape every service uses: bytes in, contract out, handler called.

A message that is not a known contract is dead-lettered with the reason and acked, so it never
blocks the queue. A handler that raises makes FastStream nack it back to the queue; after
DELIVERY_LIMIT tries RabbitMQ dead-letters it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from faststream import AckPolicy
from faststream.rabbit import RabbitRouter
from faststream.rabbit.annotations import RabbitMessage

from livechat_shared.contracts.catalog import UnknownMessage, parse_message
from livechat_shared.contracts.envelope import Message
from livechat_shared.runtime.broker import Bus
from livechat_shared.runtime.logging import correlation_id
from livechat_shared.runtime.metrics import ServiceMetrics

log = logging.getLogger(__name__)

Handler = Callable[[Message], Awaitable[None]]


async def _raw_body(message: Any) -> Any:
    return message.body


def subscribe(router: RabbitRouter, bus: Bus, metrics: ServiceMetrics, handle: Handler) -> None:
    """Register the service's input-queue consumer on its router."""
    accepted = {t.type_name() for t in bus.queues.consumes}

    @router.subscriber(
        bus.input,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        decoder=_raw_body,
        title=f"{bus.queues.service} input",
        include_in_schema=False,
    )
    async def consume(raw: RabbitMessage) -> None:
        amqp = raw.raw_message
        try:
            message = parse_message(raw.body)
            if message.type_name() not in accepted:
                raise UnknownMessage(f"{bus.queues.service} does not handle {message.type_name()}")
        except UnknownMessage as error:
            metrics.dead_lettered.labels(reason="invalid").inc()
            await bus.dead_letter(raw.body, dict(amqp.headers or {}), amqp.routing_key, str(error))
            return
        token = correlation_id.set(message.correlation_id)
        started = time.perf_counter()
        try:
            await handle(message)
        except Exception:
            metrics.handling_failures.labels(type=message.type_name()).inc()
            log.exception("handling failed; the message goes back to the queue")
            raise
        finally:
            metrics.handling_seconds.labels(type=message.type_name()).observe(
                time.perf_counter() - started
            )
            correlation_id.reset(token)
