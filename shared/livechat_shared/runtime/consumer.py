"""Each service's input queue, consumed one message after another, in delivery order.

Why not a FastStream subscriber: aio-pika runs each delivery of a subscriber in a task of its
own, up to the prefetch, so a service with a single active consumer still applied up to 64
messages at once and out of order (the projector showed a declined visitor as still offered).
Here the deliveries go into an inbox in the order the broker sent them, and one loop takes the
first one waiting, then every delivery already in the inbox (`get_nowait`, up to `batch_max`),
handles them as one batch and settles them, then takes the next batch. Under load a batch shares
one store write, one wait for publisher confirms and one multiple-ack; a quiet service still
handles each message as it comes (a batch of one: nothing waits for a batch to fill). Prefetch
(twice `batch_max`) keeps the inbox full while a batch is handled, so the loop never waits on the
network between batches. FastStream keeps the connection for publishing and the app.

Settling (see `handling.py`): acked once the handler returned; a handler that raises sends the
message back to the quorum queue, whose delivery limit dead-letters it after DELIVERY_LIMIT
tries (while it waits, the messages behind it go first: the one exception to the order). A
replica's own queue (the gateway) has no delivery limit: a failing message is rejected into the
dead-letter exchange at once. A message that cannot even be read is dead-lettered with the reason.
A batch handler that raises hands its messages to the one-message handler one by one, so a bad
message is isolated and the others are handled once.

The consumer holds a connection of its own. When it is lost, the loop reconnects, declares its
queue again (a replica's own queue does not survive a broker restart), consumes again, and runs
the bus's reconnect hooks (`Bus.on_reconnected`) before it handles the first message of the new
connection. The same happens when the broker cancels the consumer (its queue was deleted).
Deliveries still in the inbox from the lost channel are dropped: the broker delivers them again,
and handlers are idempotent. One loop and one connection at a time, so a reconnect never leaves
two consumers behind.

Partitions (PARTITIONS > 1, see contracts/partitions.py): every partition's queue is consumed on
a channel of its own into the same inbox (one loop: each partition keeps its order), so a batch
may hold deliveries of several partitions; each channel's are acked on it (a multiple-ack of its
last one). A replica consumes its own partitions at once and the others after the standby delay;
every rebalance round it hands back, between two batches (a lock covers a whole batch's
handling and settling), one partition it is active on whose owner lives (closing that channel
alone, so RabbitMQ gives the partition to the next consumer in line). Deliveries of a channel
closed by then are left out of later batches: the broker delivers them again. A partition's
first delivery on a channel logs "active on a partition" with when that message was sent: the
fault suite measures each failover from it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Sequence

import aio_pika
from aio_pika.abc import AbstractIncomingMessage
from aiormq.exceptions import ChannelLockedResource, ChannelNotFoundEntity
from prometheus_client import Gauge

from livechat_shared.runtime.broker import Bus, cancelled_from_outside
from livechat_shared.runtime.handling import (
    BatchHandler,
    Handler,
    Settler,
    channel_open,
    settler,
)
from livechat_shared.runtime.metrics import ServiceMetrics
from livechat_shared.runtime.settings import ServiceSettings

log = logging.getLogger(__name__)

_LOST = None  # put in the inbox when the channel or connection closes: the loop reconnects
Inbox = asyncio.Queue[AbstractIncomingMessage | None]


class InputConsumer:
    """Consumes the service's input queue in order; reconnects by itself; says if it consumes."""

    def __init__(
        self,
        bus: Bus,
        settle: Settler,
        *,
        amqp_url: str,
        prefetch: int,
        batch_max: int = 1,
        batch_linger_seconds: float = 0.0,
        retry_seconds: float = 1.0,
        stop_seconds: float = 10.0,
        active: Gauge | None = None,
        owned: tuple[int, ...] = (0,),
        standby_delay_seconds: float = 0.0,
        rebalance_seconds: float = 0.0,
    ) -> None:
        self.bus = bus
        self._settling = asyncio.Lock()
        self._settle = self._unless_handed_back(settle)
        self._url = amqp_url
        self._prefetch = prefetch
        self._batch_max = batch_max
        self._linger = batch_linger_seconds
        self._retry_seconds = retry_seconds
        self._stop_seconds = stop_seconds
        self._connection: aio_pika.abc.AbstractConnection | None = None
        self._inbox: Inbox | None = None
        self._task: asyncio.Task[None] | None = None
        self._consuming = False
        self._stopping = False
        self.reconnects = 0
        # Single active consumer tells no consumer it became the active one: the first delivery
        # does. A replica's own queue has no standby.
        self._active = active
        self._active_at_once = bus.queues.per_instance
        # Partitions: this replica's own first, every other one after the delay as a standby.
        self._owned = tuple(k for k in owned if k < bus.partitions)
        self._standby_delay = standby_delay_seconds
        self._standby: asyncio.Task[None] | None = None
        self._rebalance_seconds = rebalance_seconds
        self._channels: dict[int, aio_pika.abc.AbstractChannel] = {}
        self._delivered: set[int] = set()  # partitions this replica got a message of (active)
        self._handing_back: set[int] = set()
        self._names: tuple[str, ...] = ()
        self._lost: Callable[..., None] = lambda *_: None

    def _unless_handed_back(self, settle: Settler) -> Settler:
        """Deliveries whose channel closed (their partition handed back, or the connection
        lost) are left out of the batch: the broker delivers them again to whoever consumes
        the partition now. A batch may hold deliveries of several partitions' channels; the
        settler acks each channel's own (handling.py)."""

        async def settle_open(batch: Sequence[AbstractIncomingMessage]) -> None:
            # A hand-back closes a channel only between two batches: an ack sent on a channel
            # the broker has just closed would close the whole connection.
            async with self._settling:
                deliveries = [d for d in batch if channel_open(d)]
                if not deliveries:
                    return
                try:
                    await settle(deliveries)
                except Exception:
                    if all(channel_open(d) for d in deliveries):
                        raise
                    # the connection went meanwhile: what was not acked comes again
                    log.info("a channel closed while its messages were handled")

        return settle_open

    @property
    def consuming(self) -> bool:
        """True while the consumer is registered on a live channel (readiness)."""
        return self._consuming

    async def start(self) -> None:
        """Consume; the first connection must succeed (a service that cannot start says so)."""
        try:
            await self._open()
        except BaseException:
            await self._close()
            raise
        self._task = asyncio.create_task(self._run(), name=f"{self.bus.queues.service} consumer")

    async def stop(self) -> None:
        """Finish the batch in hand, then close; what is left in the inbox is redelivered."""
        self._stopping = True
        if self._inbox is not None:
            self._inbox.put_nowait(_LOST)
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, self._stop_seconds)
            except TimeoutError:
                log.warning("the consumer did not finish its message in time; cancelled")
        await self._close()

    async def queues_exist(self, names: tuple[str, ...]) -> bool:
        """Whether every named queue exists (a passive declare on a throw-away channel)."""
        if self._connection is None or self._connection.is_closed:
            return False
        try:
            async with asyncio.timeout(2.0):
                channel = await self._connection.channel()
                try:
                    for name in names:
                        await channel.declare_queue(name, passive=True)
                finally:
                    if not channel.is_closed:
                        await channel.close()
        except ChannelNotFoundEntity:
            return False
        except Exception as error:
            log.warning("could not check queues", extra={"error": repr(error)})
            return False
        return True

    async def _open(self) -> None:
        connection = await aio_pika.connect(self._url, timeout=10)
        inbox: Inbox = asyncio.Queue()

        def lost(*_: object) -> None:
            if self._inbox is inbox:  # not a late call from a connection already replaced
                self._consuming = False
                self._set_active(False)
            inbox.put_nowait(_LOST)

        connection.close_callbacks.add(lost)
        self._connection, self._inbox, self._lost = connection, inbox, lost
        self._channels, self._delivered = {}, set()
        async with connection.channel() as channel:
            queues = await self.bus.declare_input(channel)
            self._names = tuple(q.name for q in queues)
            for partition in self._owned:
                await self._consume(partition)
            if len(queues) > 1:
                # "the owner of these partitions is alive and waits on them": gone with this
                # connection (declared once it consumes, so a hand-back finds it in line)
                for partition in self._owned:
                    await channel.declare_queue(
                        self.bus.queues.owner_marker(partition), exclusive=True, auto_delete=True
                    )
        self._consuming = True
        self._set_active(self._active_at_once)
        log.info(
            "consuming",
            extra={
                "service_queue": self._names[0],
                "prefetch": self._prefetch,
                "partitions": list(self._owned),
            },
        )
        others = [k for k in range(len(self._names)) if k not in self._owned]
        if others:
            self._standby = asyncio.create_task(self._stand_by(others))

    async def _consume(self, partition: int) -> None:
        """Consume one partition's queue on a channel of its own (so it can be handed back
        alone: closing the channel is what makes RabbitMQ activate the next consumer)."""
        assert self._connection is not None and self._inbox is not None
        inbox, lost = self._inbox, self._lost
        channel = await self._connection.channel()

        def closed(*_: object) -> None:
            if partition not in self._handing_back:
                lost()

        channel.close_callbacks.add(closed)
        # The broker cancels the consumer when its queue is deleted (an upgrade step): start over,
        # which declares the queue again, rather than wait on a channel that delivers nothing.
        (await channel.get_underlay_channel()).on_consumer_cancel_callbacks.add(lost)
        await channel.set_qos(prefetch_count=self._prefetch)
        queue = await channel.get_queue(self._names[partition], ensure=False)

        async def arrived(delivery: AbstractIncomingMessage) -> None:
            # Never waits: the tasks asyncio runs in creation order keep the delivery order
            # (per queue: one inbox for every partition, one loop, each partition in its order).
            inbox.put_nowait(delivery)
            if partition not in self._delivered and len(self._names) > 1:
                _active_on(partition, delivery)
            self._delivered.add(partition)
            self._set_active(True)

        await queue.consume(arrived, no_ack=False)
        self._channels[partition] = channel

    async def _stand_by(self, partitions: list[int]) -> None:
        """Join the other replicas' partitions after a delay: with single active consumer the
        broker hands one over only when its owner's consumer is gone (RabbitMQ 3.10 ignores
        consumer priorities there, so who registers first owns it). Then, every
        `rebalance_seconds`, hand back a partition not ours that others wait for."""
        await asyncio.sleep(self._standby_delay)
        try:
            for partition in partitions:
                await self._consume(partition)
        except Exception as error:  # the connection went: the reconnect starts over
            log.info("could not stand by for other partitions", extra={"error": repr(error)})
            return
        log.info("standing by", extra={"partitions": partitions})
        while self._rebalance_seconds > 0:
            await asyncio.sleep(self._rebalance_seconds)
            for partition in sorted(self._delivered - set(self._owned)):
                try:
                    if await self._owner_alive(partition):
                        await self._hand_back(partition)
                except Exception as error:
                    # half handed back: start over from a fresh connection, as after a loss
                    log.warning("could not hand a partition back", extra={"error": repr(error)})
                    self._lost()
                    return
                break  # one at a time: the others keep theirs until the next round

    async def _owner_alive(self, partition: int) -> bool:
        """Whether the partition's owner holds its marker (RabbitMQ 3.10 counts only the
        active consumer of a single-active-consumer queue, so the consumers cannot tell)."""
        assert self._connection is not None
        channel = await self._connection.channel()
        try:
            await channel.declare_queue(self.bus.queues.owner_marker(partition), passive=True)
        except ChannelNotFoundEntity:
            return False
        except ChannelLockedResource:
            return True  # exclusive to its owner's connection: it lives
        finally:
            if not channel.is_closed:
                await channel.close()
        return True

    async def _hand_back(self, partition: int) -> None:
        """Stop being the active consumer of a partition another replica owns: close its
        channel (RabbitMQ gives what this one held unacked, in order, to the next consumer in
        line), let the service forget the partition, then line up again as a standby."""
        self._handing_back.add(partition)
        try:
            async with self._settling:  # between two messages
                channel = self._channels.pop(partition)
                self._delivered.discard(partition)
                await channel.close()
                await self.bus.partition_released(partition)
            await self._consume(partition)
        finally:
            self._handing_back.discard(partition)
        log.info("handed a partition back", extra={"partition": partition})

    def _set_active(self, active: bool) -> None:
        if self._active is not None:
            self._active.set(1 if active else 0)

    async def _close(self) -> None:
        if self._standby is not None:
            self._standby.cancel()
            self._standby = None
        self._consuming = False
        self._set_active(False)
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed:
            with contextlib.suppress(Exception):
                await connection.close()

    async def _run(self) -> None:
        while not self._stopping:
            try:
                await self._serve()
            except asyncio.CancelledError as error:
                if cancelled_from_outside():
                    raise
                # a future of a channel that closed under a handler or an ack (aiormq cancels
                # them): the broker went, as below
                log.warning("the consumer lost the broker", extra={"error": repr(error)})
            except Exception as error:
                log.warning("the consumer lost the broker", extra={"error": repr(error)})
            await self._close()
            # Whatever partitions this replica owned may be another's now.
            await self.bus.consumer_lost()
            await self._reconnect()

    async def _serve(self) -> None:
        assert self._inbox is not None
        inbox = self._inbox
        while not self._stopping and (first := await inbox.get()) is not _LOST:
            batch = [first]
            lost = False
            deadline = asyncio.get_running_loop().time() + self._linger
            while len(batch) < self._batch_max:
                if not inbox.empty():
                    delivery = inbox.get_nowait()
                else:
                    # Only what already waits, unless the service lingers for more.
                    wait = deadline - asyncio.get_running_loop().time()
                    if wait <= 0 or self._stopping:
                        break
                    try:
                        delivery = await asyncio.wait_for(inbox.get(), wait)
                    except TimeoutError:
                        break
                if delivery is _LOST:
                    lost = True
                    break
                batch.append(delivery)
            # Deliveries of a channel already gone are left out (see _unless_handed_back); one
            # that goes while the batch is handled fails its ack, and the broker delivers it
            # again (handlers are idempotent), as with a single message in hand.
            await self._settle(batch)
            if lost:
                return

    async def _reconnect(self) -> None:
        while not self._stopping:
            await asyncio.sleep(self._retry_seconds)
            try:
                await self._open()
            except Exception as error:
                log.info("the broker is not back yet", extra={"error": repr(error)})
                await self._close()
                continue
            self.reconnects += 1
            log.warning("consuming again after a connection loss")
            await self.bus.reconnected()
            return


def _active_on(partition: int, first: AbstractIncomingMessage) -> None:
    """Log that this replica got a partition's first message (since it connected, or since it
    handed the partition back): the moment it became the partition's active consumer, and when
    that message was sent, so a failover's wait can be measured from the logs."""
    try:
        sent = json.loads(first.body).get("occurred_at")
    except (ValueError, AttributeError):
        sent = None
    log.info("active on a partition", extra={"partition": partition, "first_message_at": sent})


def subscribe(
    bus: Bus,
    metrics: ServiceMetrics,
    handle: Handler,
    settings: ServiceSettings,
    *,
    handle_batch: BatchHandler | None = None,
) -> InputConsumer:
    """The service's input-queue consumer: read, handle in order, settle. Started by the app.

    With `handle_batch`, the deliveries waiting together (up to `settings.batch_max`) go to it
    at once; without, each goes to `handle` in turn (still settled as a batch)."""
    return InputConsumer(
        bus,
        settler(bus, metrics, handle, handle_batch),
        amqp_url=settings.amqp_url,
        prefetch=settings.prefetch,
        batch_max=settings.batch_max,
        batch_linger_seconds=settings.batch_linger_ms / 1000,
        active=metrics.consumer_active.labels(service=bus.queues.service),
        owned=settings.owned_partitions(),
        standby_delay_seconds=settings.standby_delay_seconds,
        rebalance_seconds=settings.rebalance_seconds,
    )
