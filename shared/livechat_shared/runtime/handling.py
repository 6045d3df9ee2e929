"""One delivery from start to end: read it, hand it to the handler, settle it with the broker.

Anything that goes wrong while reading (bytes that are not JSON or not UTF-8, a field out of
range such as a year-1 timestamp, an unknown type, odd headers) dead-letters the message with the
reason and acks it: it can never loop. A handler that raises is logged and the message goes back
(quorum input queue: retried, then dead-lettered at the delivery limit) or, on a replica's own
queue, which has no delivery limit, rejected into the dead-letter exchange at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from aio_pika.abc import AbstractIncomingMessage

from livechat_shared.contracts.catalog import UnknownMessage, parse_message
from livechat_shared.contracts.envelope import Message
from livechat_shared.runtime.broker import BrokerUnavailable, Bus
from livechat_shared.runtime.logging import correlation_id
from livechat_shared.runtime.metrics import ServiceMetrics

log = logging.getLogger(__name__)

Handler = Callable[[Message], Awaitable[None]]
Settler = Callable[[AbstractIncomingMessage], Awaitable[None]]

PUBLISH_PATIENCE = 30
"""Tries of a handler whose publishing found the broker away, a second apart, before the message
counts as failing: a broker restart is not the message's fault, and waiting keeps the order."""


def settler(bus: Bus, metrics: ServiceMetrics, handle: Handler) -> Settler:
    """What the consumer does with each delivery, in the order they came."""
    accepted = {t.type_name() for t in bus.queues.consumes}
    # A classic per-replica queue has no delivery limit: requeueing would loop for ever.
    requeue_failures = not bus.queues.per_instance
    service = bus.queues.service
    handled, failed, unreadable = (
        metrics.consumed.labels(service=service, outcome=outcome)
        for outcome in ("handled", "failed", "dead_lettered")
    )

    def read(delivery: AbstractIncomingMessage) -> Message:
        message = parse_message(delivery.body)
        if message.type_name() not in accepted:
            raise UnknownMessage(f"{bus.queues.service} does not handle {message.type_name()}")
        return message

    async def dead_letter(delivery: AbstractIncomingMessage, error: Exception) -> None:
        reason = str(error) if isinstance(error, UnknownMessage) else _describe(error)
        metrics.dead_lettered.labels(reason="invalid").inc()
        unreadable.inc()
        try:
            headers = dict(delivery.headers or {})
        except Exception:  # headers the client cannot even decode
            headers = {}
        try:
            await bus.dead_letter(delivery.body, headers, delivery.routing_key, reason)
        except Exception:
            # Without our reason, the broker's own dead-lettering still ends the loop.
            log.exception("could not dead-letter with a reason; rejecting the message instead")
            await delivery.nack(requeue=requeue_failures)
            return
        await delivery.ack()

    async def settle(delivery: AbstractIncomingMessage) -> None:
        try:
            message = read(delivery)
        except Exception as error:
            await dead_letter(delivery, error)
            return
        token = correlation_id.set(message.correlation_id)
        started = time.perf_counter()
        try:
            await _patiently(handle, message)
        except Exception:
            metrics.handling_failures.labels(type=message.type_name()).inc()
            failed.inc()
            where = "back to the queue" if requeue_failures else "to the dead-letter queue"
            log.exception(f"handling failed; the message goes {where}")
            await delivery.nack(requeue=requeue_failures)
            return
        finally:
            metrics.handling_seconds.labels(type=message.type_name()).observe(
                time.perf_counter() - started
            )
            correlation_id.reset(token)
        await delivery.ack()
        handled.inc()

    return settle


async def _patiently(handle: Handler, message: Message) -> None:
    for attempt in range(1, PUBLISH_PATIENCE + 1):
        try:
            await handle(message)
            return
        except BrokerUnavailable as error:
            if attempt == PUBLISH_PATIENCE:
                raise
            # Handlers are idempotent: running this one again republishes the same events.
            log.warning("the broker is away; handling again shortly", extra={"error": str(error)})
            await asyncio.sleep(1.0)


def _describe(error: Exception) -> str:
    return f"unreadable message: {type(error).__name__}: {error}"
