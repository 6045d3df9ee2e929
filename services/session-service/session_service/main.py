"""Wiring: settings, broker, session store, service, metrics and the read API, in one place.

Run with `uvicorn --factory session_service.main:create_app`.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI
from livechat_shared.contracts.envelope import utc_now
from livechat_shared.contracts.services import SESSION_SERVICE
from livechat_shared.runtime.broker import after_reconnect
from livechat_shared.runtime.metrics import SiteGauges
from livechat_shared.runtime.service import mongo_if_set, service_base

from session_service.adapters.metrics import SessionMetrics
from session_service.adapters.mongo_store import MongoSessionStore
from session_service.adapters.sqlite_store import SqliteSessionStore
from session_service.handlers import SessionService
from session_service.http import build_read_api
from session_service.ports import SessionStore
from session_service.queries import SessionQueries
from session_service.settings import SessionServiceSettings
from session_service.subscribers import build_consumer

log = logging.getLogger(__name__)


def build_store(settings: SessionServiceSettings) -> SessionStore:
    database = mongo_if_set(settings, kept="sessions and transcripts are", path=settings.store_path)
    if database is not None:
        return MongoSessionStore(*database)
    # partitioned replicas on one machine share the file (each writes the sites it consumes)
    return SqliteSessionStore(settings.store_path, shared=settings.replicas > 1)


def create_app(
    settings: SessionServiceSettings | None = None, store: SessionStore | None = None
) -> FastAPI:
    settings = settings or SessionServiceSettings()
    base = service_base(SESSION_SERVICE, settings)
    sessions = store if store is not None else build_store(settings)
    observer = SessionMetrics(base.metrics, sessions)
    service = SessionService(
        sessions, base.bus, utc_now, settings.visitor_grace_seconds, observe=observer
    )
    consumer = build_consumer(base.bus, base.metrics, service, settings)
    # the sessions it no longer writes (another replica's now) leave its gauge
    gauges = SiteGauges([observer.sessions], settings.partitions, settings.owned_partitions())
    base.bus.on_partition_released(gauges.partition_released)
    base.bus.on_consumer_lost(gauges.consumer_lost)

    async def before_consuming() -> None:
        if isinstance(sessions, MongoSessionStore):
            await sessions.ensure_indexes()
        await observer.load()
        rearmed = await service.rearm_timers()
        log.info("visitor-gone checks re-armed", extra={"sessions": rearmed})
        after_reconnect(base.broker, service.rearm_timers)

    app = base.app(
        consumer,
        description="Owns chat sessions and their transcripts: messages, hold, resume, end.",
        before_consuming=before_consuming,
        after_stopping=sessions.close,
    )
    app.include_router(build_read_api(SessionQueries(sessions), settings.internal_api_token))
    app.state.sessions = service
    return app
