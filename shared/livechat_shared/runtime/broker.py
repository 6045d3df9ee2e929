"""The service's side of RabbitMQ: declare its topology, publish contracts, dead-letter with a reason."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import aio_pika
import aiormq
from aio_pika.exceptions import PublishError
from faststream.rabbit import ExchangeType, QueueType, RabbitBroker, RabbitExchange, RabbitQueue
from faststream.rabbit.prometheus import RabbitPrometheusMiddleware
from faststream.rabbit.schemas import Channel
from prometheus_client import CollectorRegistry

from livechat_shared.contracts.envelope import Message
from livechat_shared.contracts.topology import (
    COMMANDS_EXCHANGE,
    DEAD_LETTER_EXCHANGE,
    DEAD_LETTER_REASON_HEADER,
    DELAYED_SITE,
    DELIVERY_LIMIT,
    EVENTS_EXCHANGE,
    ServiceQueues,
    binding_key,
    delay_queue,
    exchange_for,
    routing_key,
)
from livechat_shared.runtime.headers import sanitize_headers
from livechat_shared.runtime.metrics import ServiceMetrics

log = logging.getLogger(__name__)

PUBLISH_TIMEOUT_SECONDS = 5.0
"""Longest a publish waits for the broker; during an outage the robust channel would wait forever."""

ReconnectHook = Callable[[], Awaitable[None]]


class BrokerUnavailable(Exception):
    """A publish failed for the broker's reasons, not the message's: a later retry may work."""


class NotRouted(BrokerUnavailable):
    """The broker returned the message: no queue is bound to receive it (yet)."""


EVENTS = RabbitExchange(EVENTS_EXCHANGE, type=ExchangeType.TOPIC, durable=True)
COMMANDS = RabbitExchange(COMMANDS_EXCHANGE, type=ExchangeType.TOPIC, durable=True)
DEAD_LETTERS = RabbitExchange(DEAD_LETTER_EXCHANGE, type=ExchangeType.DIRECT, durable=True)


def build_broker(
    amqp_url: str, prefetch: int, registry: CollectorRegistry, service: str
) -> RabbitBroker:
    """A broker with publisher confirms on and bounded prefetch; nothing connects yet."""
    return RabbitBroker(
        amqp_url,
        middlewares=(RabbitPrometheusMiddleware(registry=registry, app_name=service),),
        # A mandatory publish that no queue receives raises instead of vanishing (see NotRouted).
        default_channel=Channel(
            prefetch_count=prefetch, publisher_confirms=True, on_return_raises=True
        ),
        graceful_timeout=10.0,
        reconnect_interval=1.0,  # publishing is back soon after the broker: fewer 503s
        log_level=logging.DEBUG,
    )


def input_queue(queues: ServiceQueues, instance_id: str) -> RabbitQueue:
    """The queue a service consumes from: shared by its replicas, or one per replica (fan-out)."""
    if queues.per_instance:
        # Lives as long as this replica consumes from it: the sockets it serves go with it.
        # A classic queue has no delivery limit, so the consumer rejects a message it cannot
        # handle and the dead-letter exchange keeps it, instead of it coming back for ever.
        return RabbitQueue(
            queues.instance_queue(instance_id),
            durable=False,
            auto_delete=True,
            arguments={
                "x-expires": 60_000,
                "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
                "x-dead-letter-routing-key": queues.service,
            },
        )
    arguments: dict[str, Any] = {
        "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
        "x-dead-letter-routing-key": queues.service,
        "x-delivery-limit": DELIVERY_LIMIT,
    }
    if queues.single_active_consumer:
        arguments["x-single-active-consumer"] = True
    return RabbitQueue(  # type: ignore[call-overload,no-any-return]
        queues.input_queue,
        durable=True,
        queue_type=QueueType.QUORUM,
        arguments=arguments,
    )


def dead_letter_queue(queues: ServiceQueues) -> RabbitQueue:
    return RabbitQueue(queues.dead_letter_queue, durable=True, queue_type=QueueType.QUORUM)


def _millis(seconds: float) -> int:
    return max(1, round(seconds * 1000))


def timer_queue(name: str, message_type: type[Message], delay_ms: int) -> RabbitQueue:
    """A quorum queue whose messages expire after `delay_ms` into the message's exchange.

    A quorum queue keeps its messages through a broker restart, and with at-least-once
    dead-lettering it hands an expired message on only once the target confirmed it: a timer
    that falls due while the broker (or the consuming queue) is down fires when it is back,
    instead of being dropped as a classic queue's at-most-once dead-lettering does.
    """
    return RabbitQueue(
        name,
        durable=True,
        queue_type=QueueType.QUORUM,
        arguments={
            "x-message-ttl": delay_ms,
            "x-dead-letter-exchange": exchange_for(message_type),
            "x-dead-letter-routing-key": binding_key(message_type, DELAYED_SITE),
            "x-dead-letter-strategy": "at-least-once",
            # at-least-once dead-lettering requires it (RabbitMQ falls back to at-most-once
            # otherwise); without a length limit nothing is ever rejected
            "x-overflow": "reject-publish",
        },
    )


def after_reconnect(broker: RabbitBroker, step: Callable[[], Awaitable[object]]) -> None:
    """Run `step` each time the broker connection comes back (its channels restored).

    For timers: one that fell due while the broker was away is handed on by RabbitMQ once the
    target queue confirms it, but a first attempt made before that queue was back is retried
    only after `dead_letter_worker_publisher_confirm_timeout` (3 minutes by default). A service
    that re-arms its timers here gets them on time; the late copies then decide nothing.
    """
    running: set[asyncio.Future[None]] = set()

    async def run() -> None:
        try:
            await step()
        except Exception:
            log.exception("a step after the broker came back failed")

    def on_reconnect(*_: object) -> None:
        # A task: the connection runs its callbacks while it restores, publishing waits for it.
        task = asyncio.ensure_future(run())
        running.add(task)
        task.add_done_callback(running.discard)

    connection = broker._connection  # FastStream exposes no public handle on it
    if connection is None:
        raise RuntimeError("connect the broker first")
    connection.reconnect_callbacks.add(on_reconnect)


class Bus:
    """Publishing and topology for one service, on a broker built by the service's factory."""

    def __init__(
        self,
        broker: RabbitBroker,
        queues: ServiceQueues,
        instance_id: str | None = None,
        *,
        answers_callers: bool = False,
        publish_timeout: float = PUBLISH_TIMEOUT_SECONDS,
        metrics: ServiceMetrics | None = None,
    ) -> None:
        """`answers_callers` (the gateway, whose caller can retry after a 503): a message no
        queue receives raises NotRouted instead of being dropped by the broker, and a publish
        while the connection is down fails at once instead of waiting for the reconnect. The
        services keep the defaults: their events may have no subscriber yet, and their handlers
        would rather wait out a broker restart than fail a message."""
        self.broker = broker
        self.queues = queues
        self.instance_id = instance_id or uuid.uuid4().hex[:12]
        self.input = input_queue(queues, self.instance_id)
        self.answers_callers = answers_callers
        self.publish_timeout = publish_timeout
        self._delay_queues: set[str] = set()
        self._reconnect_hooks: list[ReconnectHook] = []
        self._channel: aio_pika.abc.AbstractRobustChannel | None = None
        self._channel_lock = asyncio.Lock()
        self._outcomes = (
            {
                outcome: metrics.published.labels(service=queues.service, outcome=outcome)
                for outcome in ("confirmed", "not_routed", "failed")
            }
            if metrics is not None
            else None
        )

    def on_reconnected(self, hook: ReconnectHook) -> None:
        """Call `hook` each time the input consumer consumes again after losing the broker.

        Messages published while it was away may have missed this replica (its own queue is
        re-created empty): the hook is where a service tells its clients to re-read.
        """
        self._reconnect_hooks.append(hook)

    async def reconnected(self) -> None:
        """Run the reconnect hooks (the consumer calls this); one failing does not stop the rest."""
        for hook in self._reconnect_hooks:
            try:
                await hook()
            except Exception:
                log.exception("a reconnect hook failed")

    async def declare_input(
        self, channel: aio_pika.abc.AbstractChannel
    ) -> aio_pika.abc.AbstractQueue:
        """Declare the input queue and its bindings on a channel of the consumer's own.

        Run on every (re)connect: a replica's own queue does not survive a broker restart.
        """
        queue = await channel.declare_queue(
            self.input.name,
            durable=self.input.durable,
            auto_delete=self.input.auto_delete,
            arguments=self.input.arguments,
        )
        for message_type in self.queues.consumes:
            exchange = await channel.declare_exchange(
                exchange_for(message_type), aio_pika.ExchangeType.TOPIC, durable=True
            )
            await queue.bind(exchange, routing_key=binding_key(message_type))
        return queue

    async def declare(self) -> None:
        """Declare exchanges, the input queue with its bindings and the dead-letter queue.

        Idempotent: every replica runs it at start-up.
        """
        for exchange in (EVENTS, COMMANDS, DEAD_LETTERS):
            await self.broker.declare_exchange(exchange)
        dlq = await self.broker.declare_queue(dead_letter_queue(self.queues))
        dead_letters = await self.broker.declare_exchange(DEAD_LETTERS)
        await dlq.bind(dead_letters, routing_key=self.queues.service)

        queue = await self.broker.declare_queue(self.input)
        for message_type in self.queues.consumes:
            exchange = EVENTS if exchange_for(message_type) == EVENTS_EXCHANGE else COMMANDS
            robust_exchange = await self.broker.declare_exchange(exchange)
            await queue.bind(robust_exchange, routing_key=binding_key(message_type))

    async def publish(self, message: Message, body: bytes | None = None) -> None:
        """Publish persistently; returns once the broker confirmed the message.

        `body`: the message's JSON when the caller has it already (serialized once). Raises
        BrokerUnavailable (NotRouted if no queue would receive it) for any failure of the
        broker's: connection down, channel closed, no confirm within the timeout.
        """
        if self.answers_callers and not await self.broker.ping(timeout=0.05):
            raise BrokerUnavailable(f"could not publish {message.type_name()}: not connected")
        exchange = EVENTS_EXCHANGE if message.kind == "event" else COMMANDS_EXCHANGE
        try:
            await self._send(
                message,
                message.model_dump_json().encode() if body is None else body,
                exchange,
                routing_key(message),
                mandatory=self.answers_callers,
                # what the broker's oldest-message age (and its alert) is measured from
                timestamp=datetime.now(UTC),
            )
        except PublishError as error:
            raise NotRouted(f"no queue receives {routing_key(message)}") from error
        except Exception as error:  # whatever the client raises, the cause is the broker's
            raise BrokerUnavailable(
                f"could not publish {message.type_name()}: {type(error).__name__}: {error}"
            ) from error

    async def publish_delayed(
        self, message: Message, delay_seconds: float, due_in_seconds: float | None = None
    ) -> None:
        """Publish so that the message reaches its consumers only after the delay.

        The message waits in the timer queue of `delay_seconds` (see timer_queue), then RabbitMQ
        dead-letters it into the message's exchange under `<kind>.<Type>.delayed`. A timer
        re-armed from stored state passes `due_in_seconds`, what is left of its delay: it
        waits in the same queue, only that long (never longer than the delay).
        """
        delay_ms = _millis(delay_seconds)
        name = delay_queue(self.queues.service, type(message), delay_ms)
        if name not in self._delay_queues:
            await self.broker.declare_queue(timer_queue(name, type(message), delay_ms))
            self._delay_queues.add(name)
        expiration = None
        if due_in_seconds is not None:
            expiration = str(min(_millis(due_in_seconds), delay_ms))
        try:
            # the default exchange routes to the queue of that name
            await self._send(
                message, message.model_dump_json().encode(), "", name, expiration=expiration
            )
        except Exception as error:
            raise BrokerUnavailable(
                f"could not arm {message.type_name()}: {type(error).__name__}: {error}"
            ) from error

    async def _send(
        self,
        message: Message,
        body: bytes,
        exchange: str,
        key: str,
        *,
        mandatory: bool = False,
        timestamp: datetime | None = None,
        expiration: str | None = None,
    ) -> None:
        """One confirmed, persistent publish with aiormq, on a channel of the bus's own.

        Not through FastStream's publisher: its per-message path (middlewares, message
        building, a declare cache lookup) cost more CPU than the routing decision itself
        (README, performance). The channel lives on FastStream's connection, so it follows
        its reconnects; while it is away a publish fails at once (the handler retries).
        """
        try:
            await self._publish_confirmed(
                message, body, exchange, key, mandatory, timestamp, expiration
            )
        except PublishError:
            self._count("not_routed")
            raise
        except BaseException:
            self._count("failed")
            raise
        self._count("confirmed")

    def _count(self, outcome: str) -> None:
        if self._outcomes is not None:
            self._outcomes[outcome].inc()

    async def _publish_confirmed(
        self,
        message: Message,
        body: bytes,
        exchange: str,
        key: str,
        mandatory: bool,
        timestamp: datetime | None,
        expiration: str | None,
    ) -> None:
        channel = await (await self._publishing_channel()).get_underlay_channel()
        await channel.basic_publish(
            body,
            exchange=exchange,
            routing_key=key,
            properties=aiormq.spec.Basic.Properties(
                content_type="application/json",
                delivery_mode=2,  # persistent
                message_id=str(message.message_id),
                correlation_id=message.correlation_id,
                timestamp=timestamp,
                message_type=message.type_name(),
                expiration=expiration,
            ),
            mandatory=mandatory,
            timeout=self.publish_timeout,
        )

    async def _publishing_channel(self) -> aio_pika.abc.AbstractRobustChannel:
        if self._channel is None or self._channel.is_closed:
            async with self._channel_lock:
                if self._channel is None or self._channel.is_closed:
                    connection = self.broker._connection  # FastStream exposes no public handle
                    if connection is None:
                        raise BrokerUnavailable("the broker is not connected")
                    # A mandatory publish that no queue receives raises (see NotRouted).
                    self._channel = await connection.channel(
                        publisher_confirms=True, on_return_raises=True
                    )
        return self._channel

    async def dead_letter(
        self, body: bytes, headers: dict[str, Any], source_routing_key: str | None, reason: str
    ) -> None:
        """Move a message this service cannot use into its dead-letter queue, saying why."""
        async with asyncio.timeout(self.publish_timeout):
            await self.broker.publish(
                body,
                exchange=DEAD_LETTERS,
                routing_key=self.queues.service,
                mandatory=False,
                persist=True,
                headers={
                    **sanitize_headers(headers),
                    DEAD_LETTER_REASON_HEADER: reason[:1000],
                    "x-livechat-original-routing-key": source_routing_key or "",
                },
            )
        log.warning("dead-lettered a message", extra={"reason": reason})
