"""Run a service app in this process, through its real lifespan (broker, topology, state)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from queue_manager.adapters.memory_journal import MemoryJournal
from queue_manager.handlers import RoutingService
from queue_manager.main import create_app
from queue_manager.ports import RoutingJournal
from queue_manager.settings import QueueManagerSettings

from tests.support.broker import AMQP_URL


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[FastAPI]:
    async with app.router.lifespan_context(app):
        yield app


def queue_manager_app(
    journal: RoutingJournal | None = None,
    tmp_path: Path | None = None,
    **settings: object,
) -> FastAPI:
    base: dict[str, object] = {"amqp_url": AMQP_URL, "log_level": "WARNING"}
    if tmp_path is not None:
        base["journal_path"] = tmp_path / "journal.jsonl"
    config = QueueManagerSettings.model_validate({**base, **settings})
    return create_app(config, journal=journal if journal is not None else MemoryJournal())


def routing_of(app: FastAPI) -> RoutingService:
    service = app.state.routing
    assert isinstance(service, RoutingService)
    return service
