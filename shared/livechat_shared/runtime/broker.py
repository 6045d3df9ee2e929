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

from livechat_shared.contracts.catalog import MESSAGE_TYPES
from livechat_shared.contracts.envelope import Message
from livechat_shared.contracts.partitions import (
    PARTITION_HEADER,
    PARTITIONS_HEADER,
    partition_of,
)
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


def input_queue(
    queues: ServiceQueues, instance_id: str, partition: int = 0, partitions: int = 1
) -> RabbitQueue:
    """The queue a service consumes from: shared by its replicas (one per partition), or one
    per replica (fan-out)."""
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
        queues.partition_queue(partition, partitions),
        durable=True,
        queue_type=QueueType.QUORUM,
        arguments=arguments,
    )


def partition_binding(partition: int) -> dict[str, Any]:
    """Arguments binding a partition's queue to the service's headers exchange."""
    return {"x-match": "all", PARTITION_HEADER: str(partition)}


def dead_letter_queue(queues: ServiceQueues) -> RabbitQueue:
    return RabbitQueue(queues.dead_letter_queue, durable=True, queue_type=QueueType.QUORUM)


def cancelled_from_outside() -> bool:
    """Whether the running task itself is being cancelled (not a future it awaited)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


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
        partitions: int = 1,
    ) -> None:
        """`answers_callers` (the gateway, whose caller can retry after a 503): a message no
        queue receives raises NotRouted instead of being dropped by the broker, and a publish
        while the connection is down fails at once instead of waiting for the reconnect. The
        services keep the defaults: their events may have no subscriber yet, and their handlers
        would rather wait out a broker restart than fail a message.

        `partitions` (PARTITIONS, the same in every service): every message published carries
        its site's partition in a header, and a shared service with more than one consumes a
        queue per partition (see contracts/partitions.py)."""
        self.broker = broker
        self.queues = queues
        self.instance_id = instance_id or uuid.uuid4().hex[:12]
        self.partitions = 1 if queues.per_instance else partitions
        self._header_partitions = partitions
        self.inputs = tuple(
            input_queue(queues, self.instance_id, k, self.partitions)
            for k in range(self.partitions)
        )
        self.input = self.inputs[0]
        self.answers_callers = answers_callers
        self.publish_timeout = publish_timeout
        self._timer_queues: dict[str, asyncio.Future[None]] = {}
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
        self._lost_hooks: list[ReconnectHook] = []
        self._released_hooks: list[Callable[[int], Awaitable[None]]] = []

    def on_reconnected(self, hook: ReconnectHook) -> None:
        """Call `hook` each time the input consumer consumes again after losing the broker.

        Messages published while it was away may have missed this replica (its own queue is
        re-created empty): the hook is where a service tells its clients to re-read.
        """
        self._reconnect_hooks.append(hook)

    def on_consumer_lost(self, hook: ReconnectHook) -> None:
        """Call `hook` each time the input consumer lost its channel, before it reconnects.

        Its partitions may go to another replica meanwhile: the queue manager lets go of their
        state (and the embedded journals' locks) here, and loads it again when it gets them back.
        """
        self._lost_hooks.append(hook)

    async def consumer_lost(self) -> None:
        """Run the lost hooks (the consumer calls this, between two connections)."""
        for hook in self._lost_hooks:
            try:
                await hook()
            except Exception:
                log.exception("a consumer-lost hook failed")

    def on_partition_released(self, hook: Callable[[int], Awaitable[None]]) -> None:
        """Call `hook(partition)` when the consumer handed a partition back to its owner."""
        self._released_hooks.append(hook)

    async def partition_released(self, partition: int) -> None:
        for hook in self._released_hooks:
            await hook(partition)  # a failure stops the hand-back: the consumer starts over

    async def reconnected(self) -> None:
        """Run the reconnect hooks (the consumer calls this); one failing does not stop the rest."""
        for hook in self._reconnect_hooks:
            try:
                await hook()
            except Exception:
                log.exception("a reconnect hook failed")

    @property
    def partitioned(self) -> bool:
        return self.partitions > 1

    async def declare_input(
        self, channel: aio_pika.abc.AbstractChannel
    ) -> tuple[aio_pika.abc.AbstractQueue, ...]:
        """Declare the input queues (one per partition) and their bindings on a channel of the
        consumer's own; returns them by partition.

        Run on every (re)connect: a replica's own queue does not survive a broker restart.
        """
        topics = {
            name: await channel.declare_exchange(name, aio_pika.ExchangeType.TOPIC, durable=True)
            for name in {exchange_for(t) for t in self.queues.consumes}
        }
        if self.partitioned:
            # topic exchanges -> this service's headers exchange -> the site's partition queue
            source = await channel.declare_exchange(
                self.queues.partitions_exchange, aio_pika.ExchangeType.HEADERS, durable=True
            )
            for message_type in self.queues.consumes:
                await source.bind(
                    topics[exchange_for(message_type)], routing_key=binding_key(message_type)
                )
        declared = []
        for partition, spec in enumerate(self.inputs):
            queue = await channel.declare_queue(
                spec.name,
                durable=spec.durable,
                auto_delete=spec.auto_delete,
                arguments=spec.arguments,
            )
            if self.partitioned:
                await queue.bind(source, routing_key="", arguments=partition_binding(partition))
            else:
                for message_type in self.queues.consumes:
                    await queue.bind(
                        topics[exchange_for(message_type)], routing_key=binding_key(message_type)
                    )
            declared.append(queue)
        return tuple(declared)

    async def declare(self) -> None:
        """Declare exchanges, the input queues with their bindings and the dead-letter queue.

        Idempotent: every replica runs it at start-up.
        """
        for exchange in (EVENTS, COMMANDS, DEAD_LETTERS):
            await self.broker.declare_exchange(exchange)
        dlq = await self.broker.declare_queue(dead_letter_queue(self.queues))
        dead_letters = await self.broker.declare_exchange(DEAD_LETTERS)
        await dlq.bind(dead_letters, routing_key=self.queues.service)
        if self.partitioned:
            # On a channel of its own (the consumer declares the same again on its connection).
            channel = self.broker._connection  # FastStream exposes no public handle on it
            assert channel is not None, "connect the broker first"
            async with channel.channel() as own:
                await self.declare_input(own)
                # the stale bindings sit on the headers exchange, bound to the topic exchanges
                source = await own.declare_exchange(
                    self.queues.partitions_exchange, aio_pika.ExchangeType.HEADERS, durable=True
                )
                await self._unbind_unconsumed(source)
            return

        queue = await self.broker.declare_queue(self.input)
        for message_type in self.queues.consumes:
            exchange = EVENTS if exchange_for(message_type) == EVENTS_EXCHANGE else COMMANDS
            robust_exchange = await self.broker.declare_exchange(exchange)
            await queue.bind(robust_exchange, routing_key=binding_key(message_type))
        if not self.queues.per_instance:  # a replica's own queue is new: nothing stale on it
            await self._unbind_unconsumed(queue)

    async def _unbind_unconsumed(
        self, bound: aio_pika.abc.AbstractQueue | aio_pika.abc.AbstractExchange
    ) -> None:
        """Remove the bindings of message types this service no longer consumes.

        A durable input queue (or, partitioned, the service's headers exchange) keeps the
        bindings an earlier release declared (the projector once bound every event): without
        this, an upgrade would go on filling it with messages it only drops. Unbinding what is
        not bound is a no-op for RabbitMQ, so every start removes whatever is left, one call per
        catalogued type."""
        consumed = set(self.queues.consumes)
        for message_type in MESSAGE_TYPES.values():
            if message_type in consumed:
                continue
            await bound.unbind(exchange_for(message_type), routing_key=binding_key(message_type))

    def _headers(self, message: Message) -> dict[str, Any] | None:
        if self._header_partitions == 1:
            return None
        return {
            PARTITION_HEADER: str(partition_of(message.site_id, self._header_partitions)),
            # a consumer that runs another PARTITIONS dead-letters it (see handling.py)
            PARTITIONS_HEADER: str(self._header_partitions),
        }

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
        await self._timer_queue_declared(name, type(message), delay_ms)
        expiration = None
        if due_in_seconds is not None:
            expiration = str(min(_millis(due_in_seconds), delay_ms))
        try:
            # the default exchange routes to the queue of that name
            await self._send(
                message,
                message.model_dump_json().encode(),
                "",
                name,
                timestamp=datetime.now(UTC),
                expiration=expiration,
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
        except asyncio.CancelledError:
            self._count("failed")
            if cancelled_from_outside():
                raise
            # aiormq cancels a publish's futures when its channel or connection closes under
            # it: a broker failure, not a cancellation of this task. Left a CancelledError, it
            # would end the consumer's loop instead of sending the message back.
            raise ConnectionError("the channel closed while publishing") from None
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
                # the site's partition and PARTITIONS: the headers exchange routes on the
                # first, and a timer keeps both when it dead-letters back (RabbitMQ keeps a
                # message's headers)
                headers=self._headers(message),
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

    async def _timer_queue_declared(
        self, name: str, message_type: type[Message], delay_ms: int
    ) -> None:
        """Declare each timer queue once per process, however many timers start at once.

        A decision that starts many timers publishes them together: without a shared
        declaration each of the first ones would declare the queue again. One queue per exact
        delay, not per bucket of delays: a rule's timers all have the same delay, so a queue
        expires them in the order they were started, and none waits behind a longer one (a
        bucket would mix delays, and RabbitMQ expires messages only at a queue's head). After
        a reconnect the robust channel declares the queue again by itself."""
        declared = self._timer_queues.get(name)
        if declared is None:

            async def declare() -> None:
                await self.broker.declare_queue(timer_queue(name, message_type, delay_ms))

            declared = asyncio.ensure_future(declare())
            self._timer_queues[name] = declared
        try:
            await asyncio.shield(declared)
        except BaseException:
            if declared.done() and self._timer_queues.get(name) is declared:
                del self._timer_queues[name]  # a failed declaration is tried again next time
            raise

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
