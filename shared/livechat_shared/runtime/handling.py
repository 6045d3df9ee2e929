"""Deliveries from start to end: read them, hand them to the handler, settle them with the broker.

The consumer hands over a batch: the deliveries that were waiting in its inbox, in delivery
order (one, when the service is not busy). Anything that goes wrong while reading (bytes that are
not JSON or not UTF-8, a field out of range such as a year-1 timestamp, an unknown type, odd
headers) dead-letters that message with the reason and acks it: it can never loop. So does a
partitioned consumer with a message published for another PARTITIONS, or in another partition
than its own hash puts the site (contracts/partitions.py, `partition_mismatch`): deciding it
could split a site between two replicas. The readable ones go to the service's batch handler in order, which returns once every effect of every message
is stored and confirmed; then they are acked, with one multiple-ack. Without a batch handler, or
when the batch handler raises, they go to the one-message handler one by one (handlers are
idempotent: a redelivery of stored decisions republishes the same events), so one bad message is
isolated: it is logged and goes back (quorum input queue: retried, then dead-lettered at the
delivery limit) or, on a replica's own queue, which has no delivery limit, is rejected into the
dead-letter exchange at once; the others are acked one by one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from aio_pika.abc import AbstractIncomingMessage
from aiormq.exceptions import ChannelInvalidStateError

from livechat_shared.contracts.catalog import UnknownMessage, parse_message
from livechat_shared.contracts.envelope import Message
from livechat_shared.contracts.partitions import partition_mismatch
from livechat_shared.runtime.broker import BrokerUnavailable, Bus
from livechat_shared.runtime.logging import correlation_id
from livechat_shared.runtime.metrics import ServiceMetrics

log = logging.getLogger(__name__)

Handler = Callable[[Message], Awaitable[None]]
BatchHandler = Callable[[Sequence[Message]], Awaitable[None]]
"""Handles messages in order and returns only once every effect of every one is stored and
confirmed; the same results as the one-message handler called on each in turn."""
Settler = Callable[[Sequence[AbstractIncomingMessage]], Awaitable[None]]

PUBLISH_PATIENCE = 30
"""Tries of a handler whose publishing found the broker away, a second apart, before the message
counts as failing: a broker restart is not the message's fault, and waiting keeps the order."""

_T = TypeVar("_T")


def settler(
    bus: Bus, metrics: ServiceMetrics, handle: Handler, handle_batch: BatchHandler | None = None
) -> Settler:
    """What the consumer does with each batch of deliveries, in the order they came."""
    accepted = {t.type_name() for t in bus.queues.consumes}
    # A classic per-replica queue has no delivery limit: requeueing would loop for ever.
    requeue_failures = not bus.queues.per_instance
    service = bus.queues.service
    handled, failed, unreadable = (
        metrics.consumed.labels(service=service, outcome=outcome)
        for outcome in ("handled", "failed", "dead_lettered")
    )
    batch_size = metrics.batch_size.labels(service=service)
    fallbacks = metrics.batch_fallbacks.labels(service=service)

    def read(delivery: AbstractIncomingMessage) -> Message:
        message = parse_message(delivery.body)
        if message.type_name() not in accepted:
            raise UnknownMessage(f"{bus.queues.service} does not handle {message.type_name()}")
        return message

    def misplaced(delivery: AbstractIncomingMessage, message: Message) -> str | None:
        """Why a readable message is not for this partitioned consumer, or None."""
        if bus.partitions == 1:
            return None
        return partition_mismatch(message.site_id, bus.partitions, _headers_of(delivery))

    async def dead_letter(delivery: AbstractIncomingMessage, reason: str, label: str) -> None:
        metrics.dead_lettered.labels(reason=label).inc()
        unreadable.inc()
        headers = _headers_of(delivery)
        try:
            await bus.dead_letter(delivery.body, headers, delivery.routing_key, reason)
        except Exception:
            # Without our reason, the broker's own dead-lettering still ends the loop.
            log.exception("could not dead-letter with a reason; rejecting the message instead")
            await delivery.nack(requeue=requeue_failures)
            return
        await delivery.ack()

    async def settle_one(delivery: AbstractIncomingMessage, message: Message) -> None:
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

    async def settle_together(
        batch: BatchHandler, deliveries: list[AbstractIncomingMessage], messages: list[Message]
    ) -> bool:
        started = time.perf_counter()
        try:
            await _patiently(batch, messages)
        except Exception:
            fallbacks.inc()
            log.exception(f"handling a batch of {len(messages)} failed; handling them one by one")
            return False
        # Each message's share of the batch, so the per-type counts stay one per message.
        share = (time.perf_counter() - started) / len(messages)
        for message in messages:
            metrics.handling_seconds.labels(type=message.type_name()).observe(share)
        await _ack_all(deliveries)
        handled.inc(len(messages))
        return True

    async def settle(deliveries: Sequence[AbstractIncomingMessage]) -> None:
        batch_size.observe(len(deliveries))
        readable: list[AbstractIncomingMessage] = []
        messages: list[Message] = []
        for delivery in deliveries:
            try:
                message = read(delivery)
            except Exception as error:
                await dead_letter(delivery, _reason(error), "invalid")
                continue
            mismatch = misplaced(delivery, message)
            if mismatch is not None:
                await dead_letter(delivery, mismatch, "partition_mismatch")
                continue
            readable.append(delivery)
            messages.append(message)
        if not messages:
            return
        if (
            handle_batch is not None
            and len(messages) > 1
            and await settle_together(handle_batch, readable, messages)
        ):
            return
        for delivery, message in zip(readable, messages, strict=True):
            await settle_one(delivery, message)

    return settle


def channel_open(delivery: AbstractIncomingMessage) -> bool:
    """Whether the delivery's channel is still open: the only channel it can be settled on."""
    try:
        return not delivery.channel.is_closed
    except ChannelInvalidStateError:  # aio-pika raises on a closed channel's delivery
        return False


async def _ack_all(deliveries: list[AbstractIncomingMessage]) -> None:
    """Ack the handled deliveries with one multiple-ack of the last one on each channel.

    A batch may hold deliveries of several channels (partitions, each on a channel of its
    own), and a delivery tag means something only on its channel. Sound because the consumer
    settles everything in delivery order: on a channel, every delivery before the last one of
    this batch is either in it (handled) or already settled (acked, nacked or dead-lettered),
    and a multiple-ack never touches what was settled. A channel closed meanwhile is skipped:
    the broker took its deliveries back and delivers them again (handlers are idempotent).
    """
    last_on_channel: dict[int, AbstractIncomingMessage] = {}
    for delivery in deliveries:
        if channel_open(delivery):
            last_on_channel[id(delivery.channel)] = delivery
    for last in last_on_channel.values():
        await last.ack(multiple=True)


async def _patiently(handle: Callable[[_T], Awaitable[None]], argument: _T) -> None:
    for attempt in range(1, PUBLISH_PATIENCE + 1):
        try:
            await handle(argument)
            return
        except BrokerUnavailable as error:
            if attempt == PUBLISH_PATIENCE:
                raise
            # Handlers are idempotent: running this one again republishes the same events.
            log.warning("the broker is away; handling again shortly", extra={"error": str(error)})
            await asyncio.sleep(1.0)


def _headers_of(delivery: AbstractIncomingMessage) -> dict[str, Any]:
    try:
        return dict(delivery.headers or {})
    except Exception:  # headers the client cannot even decode
        return {}


def _reason(error: Exception) -> str:
    if isinstance(error, UnknownMessage):
        return str(error)
    return f"unreadable message: {type(error).__name__}: {error}"
