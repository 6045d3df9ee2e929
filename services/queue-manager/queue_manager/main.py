"""Wiring: settings, broker, journal, routing service and metrics, inside the app's lifespan.

Run with `uvicorn --factory queue_manager.main:create_app`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import Awaitable

from fastapi import FastAPI
from livechat_shared.contracts.envelope import utc_now
from livechat_shared.contracts.services import QUEUE_MANAGER
from livechat_shared.runtime.broker import after_reconnect
from livechat_shared.runtime.service import mongo_if_set, service_base

from queue_manager.adapters.file_journal import FileJournal
from queue_manager.adapters.metrics import RoutingMetrics, RoutingStateCollector
from queue_manager.adapters.mongo_journal import MongoJournal, partition_collection
from queue_manager.adapters.partitioned_journal import PartitionedJournal, partition_path
from queue_manager.handlers import RoutingService
from queue_manager.ports import RoutingJournal
from queue_manager.settings import QueueManagerSettings
from queue_manager.subscribers import build_consumer

log = logging.getLogger(__name__)


class StoppedWhileStarting(RuntimeError):
    """SIGTERM or SIGINT came while start-up was waiting (a standby waiting for the journal)."""


async def unless_stopped(step: Awaitable[None]) -> None:
    """Run a start-up step that may wait for long, giving up on SIGTERM or SIGINT.

    The web server acts on those signals only once started: without this, a standby waiting
    for the journal's lock would ignore them until the lock came free.
    """
    if threading.current_thread() is not threading.main_thread():
        await step
        return
    loop = asyncio.get_running_loop()
    stopped = asyncio.Event()
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        loop.add_signal_handler(sig, stopped.set)
    task = asyncio.ensure_future(step)
    waiter = asyncio.ensure_future(stopped.wait())
    try:
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
        for sig, handler in previous.items():
            loop.remove_signal_handler(sig)
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
    if not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        raise StoppedWhileStarting("stopped while waiting to start (standby)")
    task.result()


def build_journal(settings: QueueManagerSettings) -> RoutingJournal:
    database = mongo_if_set(
        settings,
        kept="routing decisions are",
        path=settings.journal_path,
        embedded="embedded journal",
    )
    if settings.partitions > 1:
        if database is not None:
            db, close = database
            return PartitionedJournal(
                lambda k: MongoJournal(db, collection=partition_collection(k)),
                settings.partitions,
                close,
            )
        # A partition taken over waits for its file's lock: its owner lets go when it dies.
        return PartitionedJournal(
            lambda k: FileJournal(partition_path(settings.journal_path, k), standby=True),
            settings.partitions,
        )
    if database is not None:
        return MongoJournal(*database)
    return FileJournal(settings.journal_path, standby=settings.journal_standby)


def create_app(
    settings: QueueManagerSettings | None = None, journal: RoutingJournal | None = None
) -> FastAPI:
    settings = settings or QueueManagerSettings()
    base = service_base(QUEUE_MANAGER, settings)
    store = journal if journal is not None else build_journal(settings)
    service = RoutingService(
        store,
        base.bus,
        settings.policy(),
        utc_now,
        observe=RoutingMetrics(base.metrics),
        partitions=store if isinstance(store, PartitionedJournal) else None,
    )
    base.bus.on_consumer_lost(service.release_partitions)
    base.bus.on_partition_released(service.release_partition)
    base.metrics.registry.register(RoutingStateCollector(service))
    consumer = build_consumer(base.bus, base.metrics, service, settings)

    async def before_consuming() -> None:
        await unless_stopped(store.open())
        replayed = await service.load()
        rearmed = await service.rearm_timers()
        log.info(
            "routing state loaded",
            extra={"journal_entries": replayed, "timers_rearmed": rearmed},
        )
        await service.recheck_consoles()
        await service.announce_sites()
        after_reconnect(base.broker, service.rearm_timers)

    async def stop() -> None:
        await service.close()
        await store.close()

    app = base.app(
        consumer,
        description="Owns the waiting queues, operator capacity and fair routing.",
        before_consuming=before_consuming,
        after_stopping=stop,
    )
    app.state.routing = service
    return app
