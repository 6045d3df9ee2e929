"""Wiring: settings, broker, session store, service, metrics and the read API, in one place.

Run with `uvicorn --factory session_service.main:create_app`.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from fastapi import FastAPI
from livechat_shared.contracts.services import SESSION_SERVICE
from livechat_shared.runtime.app import create_service_app
from livechat_shared.runtime.broker import Bus, after_reconnect, build_broker
from livechat_shared.runtime.logging import configure_logging
from livechat_shared.runtime.metrics import ServiceMetrics
from livechat_shared.runtime.mongo import open_database
from livechat_shared.runtime.settings import warn_about_development_secrets

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


def _utc_now() -> datetime:
    return datetime.now(UTC)


def build_store(settings: SessionServiceSettings) -> SessionStore:
    if settings.mongo_url:
        database, close = open_database(settings)
        return MongoSessionStore(database, close=close)
    log.warning(
        "MONGO_URL is not set: sessions and transcripts are kept in the embedded store "
        "(one process only; development and single machine)",
        extra={"path": str(settings.store_path)},
    )
    return SqliteSessionStore(settings.store_path)


def create_app(
    settings: SessionServiceSettings | None = None, store: SessionStore | None = None
) -> FastAPI:
    settings = settings or SessionServiceSettings()
    configure_logging("session-service", settings.log_level)
    warn_about_development_secrets(settings, log)
    metrics = ServiceMetrics("session-service")
    broker = build_broker(settings.amqp_url, settings.prefetch, metrics.registry, "session-service")
    bus = Bus(broker, SESSION_SERVICE)
    sessions = store if store is not None else build_store(settings)
    observer = SessionMetrics(metrics, sessions)
    service = SessionService(
        sessions, bus, _utc_now, settings.visitor_grace_seconds, observe=observer
    )
    consumer = build_consumer(bus, metrics, service, settings)

    async def before_consuming() -> None:
        if isinstance(sessions, MongoSessionStore):
            await sessions.ensure_indexes()
        await observer.load()
        rearmed = await service.rearm_timers()
        log.info("visitor-gone checks re-armed", extra={"sessions": rearmed})
        after_reconnect(broker, service.rearm_timers)

    app = create_service_app(
        title="session-service",
        description="Owns chat sessions and their transcripts: messages, hold, resume, end.",
        broker=broker,
        bus=bus,
        consumer=consumer,
        metrics=metrics,
        before_consuming=before_consuming,
        after_stopping=sessions.close,
    )
    app.include_router(build_read_api(SessionQueries(sessions), settings.internal_api_token))
    app.state.sessions = service
    return app
