"""Wiring: settings, broker, summary store, projector, reads and metrics, inside the app's lifespan.

Run with `uvicorn --factory summary_projector.main:create_app`.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from livechat_shared.contracts.envelope import utc_now
from livechat_shared.contracts.services import SUMMARY_PROJECTOR
from livechat_shared.runtime.internal_api import internal_token_guard
from livechat_shared.runtime.service import mongo_if_set, service_base
from pymongo.errors import PyMongoError

from summary_projector import http
from summary_projector.adapters.metrics import ProjectionMetrics
from summary_projector.adapters.mongo_store import MongoSummaryStore
from summary_projector.adapters.sqlite_store import SqliteSummaryStore
from summary_projector.changes import Changes
from summary_projector.handlers import ProjectionService
from summary_projector.ports import SummaryStore
from summary_projector.queries import SummaryQueries
from summary_projector.read_model import start_read_model
from summary_projector.settings import SummaryProjectorSettings
from summary_projector.subscribers import build_consumer

log = logging.getLogger(__name__)


def build_store(settings: SummaryProjectorSettings) -> SummaryStore:
    retention = timedelta(seconds=settings.archive_retention_seconds)
    database = mongo_if_set(
        settings,
        kept="the Communication Summary and its event archive are",
        path=settings.store_path,
    )
    if database is not None:
        return MongoSummaryStore(*database, retention=retention)
    # partitioned replicas on one machine share the file (each writes the sites it consumes)
    return SqliteSummaryStore(
        settings.store_path, retention=retention, shared=settings.replicas > 1
    )


def create_app(
    settings: SummaryProjectorSettings | None = None, store: SummaryStore | None = None
) -> FastAPI:
    settings = settings or SummaryProjectorSettings()
    base = service_base(SUMMARY_PROJECTOR, settings)
    summaries_store = store if store is not None else build_store(settings)
    changes = Changes()
    projector = ProjectionService(
        summaries_store, utc_now, observer=ProjectionMetrics(base.metrics), changed=changes.changed
    )
    consumer = build_consumer(base.bus, base.metrics, projector, settings)

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

    app = base.app(
        consumer,
        description="The Communication Summary read model, per site and per operator.",
        before_consuming=before_consuming,
        after_stopping=summaries_store.close,
        readiness_detail=lambda: readiness,
    )
    app.state.projector = projector
    app.state.summaries = SummaryQueries(
        summaries_store,
        changes,
        utc_now,
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
