"""Wiring: settings, broker, message store, service, metrics and the read API, in one place.

Run with `uvicorn --factory offline_messages.main:create_app`.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI
from livechat_shared.contracts.envelope import utc_now
from livechat_shared.contracts.services import OFFLINE_MESSAGES
from livechat_shared.runtime.metrics import SiteGauges
from livechat_shared.runtime.service import mongo_if_set, service_base

from offline_messages.adapters.metrics import MessageQueueMetrics
from offline_messages.adapters.mongo_store import MongoMessageStore
from offline_messages.adapters.sqlite_store import SqliteMessageStore
from offline_messages.handlers import OfflineMessageService
from offline_messages.http import build_read_api
from offline_messages.ports import OfflineMessageStore
from offline_messages.queries import MessageQueueQueries
from offline_messages.settings import OfflineMessagesSettings
from offline_messages.subscribers import build_consumer

log = logging.getLogger(__name__)


def build_store(settings: OfflineMessagesSettings) -> OfflineMessageStore:
    database = mongo_if_set(settings, kept="offline messages are", path=settings.store_path)
    if database is not None:
        return MongoMessageStore(*database)
    # partitioned replicas on one machine share the file (each writes the sites it consumes)
    return SqliteMessageStore(settings.store_path, shared=settings.replicas > 1)


def create_app(
    settings: OfflineMessagesSettings | None = None, store: OfflineMessageStore | None = None
) -> FastAPI:
    settings = settings or OfflineMessagesSettings()
    base = service_base(OFFLINE_MESSAGES, settings)
    messages = store if store is not None else build_store(settings)
    observer = MessageQueueMetrics(base.metrics, messages)
    service = OfflineMessageService(messages, base.bus, utc_now, observe=observer)
    consumer = build_consumer(base.bus, base.metrics, service, settings)
    # the sites it no longer writes (another replica's now) leave its gauge
    gauges = SiteGauges([observer.waiting], settings.partitions, settings.owned_partitions())
    base.bus.on_partition_released(gauges.partition_released)
    base.bus.on_consumer_lost(gauges.consumer_lost)

    async def before_consuming() -> None:
        if isinstance(messages, MongoMessageStore):
            await messages.ensure_indexes()
        await observer.load()

    app = base.app(
        consumer,
        description="The Message Queue: messages visitors left offline, taken oldest first.",
        before_consuming=before_consuming,
        after_stopping=messages.close,
    )
    app.include_router(build_read_api(MessageQueueQueries(messages), settings.internal_api_token))
    app.state.offline_messages = service
    return app
