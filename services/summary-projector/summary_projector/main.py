"""Wiring: settings, broker, summary store, projector, reads and metrics, inside the app's lifespan.

Run with `uvicorn --factory summary_projector.main:create_app`.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from livechat_shared.contracts.services import SUMMARY_PROJECTOR
from livechat_shared.runtime.app import create_service_app
from livechat_shared.runtime.broker import Bus, build_broker
from livechat_shared.runtime.internal_api import internal_token_guard
from livechat_shared.runtime.logging import configure_logging
from livechat_shared.runtime.metrics import ServiceMetrics
from livechat_shared.runtime.mongo import open_database
from livechat_shared.runtime.settings import warn_about_development_secrets
from pymongo.errors import PyMongoError

from summary_projector import http
from summary_projector.adapters.metrics import ProjectionMetrics
from summary_projector.adapters.mongo_store import MongoSummaryStore
from summary_projector.adapters.sqlite_store import SqliteSummaryStore
from summary_projector.changes import Changes
from summary_projector.handlers import Projector
from summary_projector.ports import SummaryStore
from summary_projector.queries import SummaryQueries
from summary_projector.read_model import start_read_model
from summary_projector.settings import SummaryProjectorSettings
from summary_projector.subscribers import build_consumer

log = logging.getLogger(__name__)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def build_store(settings: SummaryProjectorSettings) -> SummaryStore:
    if settings.mongo_url:
        database, close = open_database(settings)
        return MongoSummaryStore(database, close=close, retention=_retention(settings))
    log.warning(
        "MONGO_URL is not set: the Communication Summary and its event archive are kept in the "
        "embedded store (one process only; development and single machine)",
        extra={"path": str(settings.store_path)},
    )
    return SqliteSummaryStore(settings.store_path, retention=_retention(settings))


def _retention(settings: SummaryProjectorSettings) -> timedelta:
    return timedelta(seconds=settings.archive_retention_seconds)


def create_app(
    settings: SummaryProjectorSettings | None = None, store: SummaryStore | None = None
) -> FastAPI:
    settings = settings or SummaryProjectorSettings()
    configure_logging("summary-projector", settings.log_level)
    warn_about_development_secrets(settings, log)
    metrics = ServiceMetrics("summary-projector")
    broker = build_broker(
        settings.amqp_url, settings.prefetch, metrics.registry, "summary-projector"
    )
    bus = Bus(broker, SUMMARY_PROJECTOR)
    summaries_store = store if store is not None else build_store(settings)
    changes = Changes()
    projector = Projector(
        summaries_store, _utc_now, observer=ProjectionMetrics(metrics), changed=changes.changed
    )
    consumer = build_consumer(bus, metrics, projector, settings)

    readiness: dict[str, str] = {}

    async def before_consuming() -> None:
        if isinstance(summaries_store, MongoSummaryStore):
            await summaries_store.ensure_indexes()
        started = await start_read_model(summaries_store)
        if started.rebuilt is not None:
            readiness["summary"] = "rebuilt from the event archive at start"
            log.info(
                "the summary was empty: rebuilt it from the event archive",
                extra={"events": started.rebuilt.events, "sites": started.rebuilt.sites},
            )
        elif started.from_nothing:
            readiness["summary"] = "started empty: no event archive to rebuild from"
            log.warning(
                "the summary starts empty and there is no event archive to rebuild it from "
                "(a first start, or the first after an upgrade from a store without one): "
                "until operators and visitors act again, it misses what happened before"
            )

    app = create_service_app(
        title="summary-projector",
        description="The Communication Summary read model, per site and per operator.",
        broker=broker,
        bus=bus,
        consumer=consumer,
        metrics=metrics,
        before_consuming=before_consuming,
        after_stopping=summaries_store.close,
        readiness_detail=lambda: readiness,
    )
    app.state.projector = projector
    app.state.summaries = SummaryQueries(
        summaries_store,
        settings.default_max_chats,
        changes,
        _utc_now,
        poll_seconds=settings.stream_poll_seconds,
        stream_seconds=settings.stream_max_seconds,
    )
    # Internal: consoles reach the summary through the gateway, with an operator's token.
    guard = Depends(internal_token_guard(settings.internal_api_token))
    app.include_router(http.router, dependencies=[guard])

    @app.exception_handler(PyMongoError)
    async def store_unavailable(_: Request, error: Exception) -> JSONResponse:
        # The store, not the caller's input: say so, and that a retry may work.
        log.warning("the summary store is unavailable", extra={"error": str(error)})
        return JSONResponse(
            {"detail": "the summary store is unavailable, retry shortly"},
            status_code=503,
            headers={"Retry-After": "1"},
        )

    return app
