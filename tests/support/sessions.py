"""The session service for tests: its app on the real broker, and each of its stores."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI
from session_service.adapters.memory_store import MemorySessionStore
from session_service.adapters.mongo_store import MongoSessionStore
from session_service.adapters.sqlite_store import SqliteSessionStore
from session_service.handlers import SessionService
from session_service.main import create_app
from session_service.ports import SessionStore
from session_service.settings import SessionServiceSettings

from tests.support.broker import AMQP_URL
from tests.support.mongo import fresh_database

INTERNAL_TOKEN = "test-internal-token-0123456789"


def session_service_app(store: SessionStore | None = None, **settings: object) -> FastAPI:
    base: dict[str, object] = {
        "amqp_url": AMQP_URL,
        "log_level": "WARNING",
        "INTERNAL_API_TOKEN": INTERNAL_TOKEN,
    }
    config = SessionServiceSettings.model_validate({**base, **settings})
    return create_app(config, store=store if store is not None else MemorySessionStore())


def sessions_of(app: FastAPI) -> SessionService:
    service = app.state.sessions
    assert isinstance(service, SessionService)
    return service


def read_api(app: FastAPI, token: str | None = INTERNAL_TOKEN) -> httpx.AsyncClient:
    """An HTTP client on the app in this process (its lifespan is run by `running`)."""
    headers = {} if token is None else {"X-Internal-Token": token}
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://session-service", headers=headers
    )


@asynccontextmanager
async def mongo_session_store() -> AsyncIterator[MongoSessionStore]:
    async with fresh_database() as database:
        store = MongoSessionStore(database)
        await store.ensure_indexes()
        yield store


@asynccontextmanager
async def session_store_of(kind: str) -> AsyncIterator[SessionStore]:
    if kind == "memory":
        yield MemorySessionStore()
    elif kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            store = SqliteSessionStore(Path(folder) / "sessions.sqlite3")
            try:
                yield store
            finally:
                await store.close()
    else:
        async with mongo_session_store() as mongo:
            yield mongo
