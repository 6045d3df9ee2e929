"""Wiring: settings, broker, message store, service, metrics and the read API, in one place.

Run with `uvicorn --factory offline_messages.main:create_app`.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from fastapi import FastAPI
from livechat_shared.contracts.services import OFFLINE_MESSAGES
from livechat_shared.runtime.app import create_service_app
from livechat_shared.runtime.broker import Bus, build_broker
from livechat_shared.runtime.logging import configure_logging
from livechat_shared.runtime.metrics import ServiceMetrics
from livechat_shared.runtime.mongo import open_database
from livechat_shared.runtime.settings import warn_about_development_secrets

from offline_messages.adapters.metrics import MessageQueueMetrics
from offline_messages.adapters.mongo_store import MongoMessageStore
from offline_messages.adapters.sqlite_store import SqliteMessageStore
from offline_messages.handlers import OfflineMessages
from offline_messages.http import build_read_api
from offline_messages.ports import OfflineMessageStore
from offline_messages.queries import MessageQueueQueries
from offline_messages.settings import OfflineMessagesSettings
from offline_messages.subscribers import build_consumer

log = logging.getLogger(__name__)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def build_store(settings: OfflineMessagesSettings) -> OfflineMessageStore:
    if settings.mongo_url:
        database, close = open_database(settings)
        return MongoMessageStore(database, close=close)
    log.warning(
        "MONGO_URL is not set: offline messages are kept in the embedded store "
        "(one process only; development and single machine)",
        extra={"path": str(settings.store_path)},
    )
    return SqliteMessageStore(settings.store_path)


def create_app(
    settings: OfflineMessagesSettings | None = None, store: OfflineMessageStore | None = None
) -> FastAPI:
    settings = settings or OfflineMessagesSettings()
    configure_logging("offline-messages", settings.log_level)
    warn_about_development_secrets(settings, log)
    metrics = ServiceMetrics("offline-messages")
    broker = build_broker(
        settings.amqp_url, settings.prefetch, metrics.registry, "offline-messages"
    )
    bus = Bus(broker, OFFLINE_MESSAGES)
    messages = store if store is not None else build_store(settings)
    observer = MessageQueueMetrics(metrics, messages)
    service = OfflineMessages(messages, bus, _utc_now, observe=observer)
    consumer = build_consumer(bus, metrics, service, settings)

    async def before_consuming() -> None:
        if isinstance(messages, MongoMessageStore):
            await messages.ensure_indexes()
        await observer.load()

    app = create_service_app(
        title="offline-messages",
        description="The Message Queue: messages visitors left offline, taken oldest first.",
        broker=broker,
        bus=bus,
        consumer=consumer,
        metrics=metrics,
        before_consuming=before_consuming,
        after_stopping=messages.close,
    )
    app.include_router(build_read_api(MessageQueueQueries(messages), settings.internal_api_token))
    app.state.offline_messages = service
    return app
