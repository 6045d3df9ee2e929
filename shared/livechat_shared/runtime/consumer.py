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
and handlers are idempotent. One loop and one channel at a time, so a reconnect never leaves two
consumers behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import aio_pika
from aio_pika.abc import AbstractIncomingMessage
from aiormq.exceptions import ChannelNotFoundEntity
from prometheus_client import Gauge

from livechat_shared.runtime.broker import Bus
from livechat_shared.runtime.handling import BatchHandler, Handler, Settler, settler
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
        retry_seconds: float = 1.0,
        stop_seconds: float = 10.0,
        active: Gauge | None = None,
    ) -> None:
        self.bus = bus
        self._settle = settle
        self._url = amqp_url
        self._prefetch = prefetch
        self._batch_max = batch_max
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
        self._connection, self._inbox = connection, inbox
        channel = await connection.channel()
        channel.close_callbacks.add(lost)
        # The broker cancels the consumer when its queue is deleted (an upgrade step): start over,
        # which declares the queue again, rather than wait on a channel that delivers nothing.
        (await channel.get_underlay_channel()).on_consumer_cancel_callbacks.add(lost)
        await channel.set_qos(prefetch_count=self._prefetch)
        queue = await self.bus.declare_input(channel)

        async def arrived(delivery: AbstractIncomingMessage) -> None:
            # Never waits: the tasks asyncio runs in creation order keep the delivery order.
            inbox.put_nowait(delivery)
            self._set_active(True)

        await queue.consume(arrived, no_ack=False)
        self._consuming = True
        self._set_active(self._active_at_once)
        log.info("consuming", extra={"service_queue": queue.name, "prefetch": self._prefetch})

    def _set_active(self, active: bool) -> None:
        if self._active is not None:
            self._active.set(1 if active else 0)

    async def _close(self) -> None:
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
            except Exception as error:
                log.warning("the consumer lost the broker", extra={"error": repr(error)})
            await self._close()
            await self._reconnect()

    async def _serve(self) -> None:
        assert self._inbox is not None
        inbox = self._inbox
        while not self._stopping and (first := await inbox.get()) is not _LOST:
            batch = [first]
            lost = False
            while len(batch) < self._batch_max and not inbox.empty():
                delivery = inbox.get_nowait()
                if delivery is _LOST:
                    lost = True
                    break
                batch.append(delivery)
            # Settled even when the channel is gone: its acks fail and the broker delivers
            # the batch again (handlers are idempotent), as with a single message in hand.
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
        active=metrics.consumer_active.labels(service=bus.queues.service),
    )
