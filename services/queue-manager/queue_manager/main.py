"""Wiring: settings, broker, journal, routing service and metrics, inside the app's lifespan.

Run with `uvicorn --factory queue_manager.main:create_app`.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from fastapi import FastAPI
from livechat_shared.contracts.services import QUEUE_MANAGER
from livechat_shared.runtime.app import create_service_app
from livechat_shared.runtime.broker import Bus, build_broker
from livechat_shared.runtime.logging import configure_logging
from livechat_shared.runtime.metrics import ServiceMetrics
from livechat_shared.runtime.mongo import open_database
from livechat_shared.runtime.settings import warn_about_development_secrets

from queue_manager.adapters.file_journal import FileJournal
from queue_manager.adapters.metrics import RoutingMetrics, RoutingStateCollector
from queue_manager.adapters.mongo_journal import MongoJournal
from queue_manager.handlers import RoutingService
from queue_manager.ports import RoutingJournal
from queue_manager.settings import QueueManagerSettings
from queue_manager.subscribers import build_router

log = logging.getLogger(__name__)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def build_journal(settings: QueueManagerSettings) -> RoutingJournal:
    if settings.mongo_url:
        database, close = open_database(settings)
        return MongoJournal(database, close=close)
    log.warning(
        "MONGO_URL is not set: using the embedded journal file (development only)",
        extra={"path": str(settings.journal_path)},
    )
    return FileJournal(settings.journal_path)


def create_app(
    settings: QueueManagerSettings | None = None, journal: RoutingJournal | None = None
) -> FastAPI:
    settings = settings or QueueManagerSettings()
    configure_logging("queue-manager", settings.log_level)
    warn_about_development_secrets(settings, log)
    metrics = ServiceMetrics("queue-manager")
    broker = build_broker(settings.amqp_url, settings.prefetch, metrics.registry, "queue-manager")
    bus = Bus(broker, QUEUE_MANAGER)
    store = journal if journal is not None else build_journal(settings)
    service = RoutingService(
        store, bus, settings.policy(), _utc_now, observe=RoutingMetrics(metrics)
    )
    metrics.registry.register(RoutingStateCollector(service))
    broker.include_router(build_router(bus, metrics, service))

    async def before_consuming() -> None:
        if isinstance(store, MongoJournal):
            await store.ensure_indexes()
        replayed = await service.load()
        log.info("routing state loaded", extra={"journal_entries": replayed})
        await service.recheck_consoles()

    async def stop() -> None:
        await service.close()
        await store.close()

    app = create_service_app(
        title="queue-manager",
        description="Owns the waiting queues, operator capacity and fair routing.",
        broker=broker,
        bus=bus,
        metrics=metrics,
        before_consuming=before_consuming,
        after_stopping=stop,
    )
    app.state.routing = service
    return app
