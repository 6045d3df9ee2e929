"""The internal read API over an in-memory store: token, lookups, My Communication, Chat overview."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from session_service.adapters.memory_store import MemorySessionStore
from session_service.handlers import SessionService
from session_service.http import build_read_api
from session_service.queries import SessionQueries

from tests.unit.session_service.chat import (
    OPERATOR,
    SESSION,
    SITE,
    T0,
    VISITOR,
    RecordingPublisher,
    end,
    hold,
    post,
    started,
)

TOKEN = "unit-internal-token-0123456789"
SECOND = uuid.UUID("5e551011-0000-4000-8000-000000000002")
THIRD = uuid.UUID("5e551011-0000-4000-8000-000000000003")


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def client(app: FastAPI, token: str | None = TOKEN) -> httpx.AsyncClient:
    headers = {"X-Internal-Token": token} if token is not None else {}
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://sessions", headers=headers)


@pytest.fixture
def app() -> FastAPI:
    app = FastAPI()
    store = MemorySessionStore()
    app.include_router(build_read_api(SessionQueries(store), TOKEN))
    app.state.sessions = SessionService(store, RecordingPublisher(), Clock(), 60.0)
    return app


@pytest.fixture
async def desk(app: FastAPI) -> AsyncIterator[tuple[SessionService, httpx.AsyncClient]]:
    """The service that fills the store, and an HTTP client that reads it with the token."""
    async with client(app) as http:
        yield app.state.sessions, http


ROUTES = [
    f"/v1/sites/{SITE}/sessions/{SESSION}",
    f"/v1/sites/{SITE}/sessions/{SESSION}/messages",
    f"/v1/sites/{SITE}/operators/{OPERATOR}/sessions",
    f"/v1/sites/{SITE}/operators/{OPERATOR}/messages",
    f"/v1/sites/{SITE}/visitors/{VISITOR}/session",
]


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("token", [None, "wrong-token", ""])
async def test_every_route_wants_the_internal_token(
    app: FastAPI, route: str, token: str | None
) -> None:
    await app.state.sessions.handle(started())
    async with client(app, token) as http:
        response = await http.get(route)
    assert response.status_code == 401
    assert "X-Internal-Token" in response.json()["detail"]


async def test_a_session_is_looked_up_on_its_own_site_only(
    desk: tuple[SessionService, httpx.AsyncClient],
) -> None:
    sessions, http = desk
    await sessions.handle(started())
    response = await http.get(f"/v1/sites/{SITE}/sessions/{SESSION}")
    assert response.status_code == 200
    assert response.json() == {
        "session_id": str(SESSION),
        "site_id": SITE,
        "visitor_id": VISITOR,
        "operator_id": OPERATOR,
        "channel": "chat",
        "status": "active",
        "started_at": "2026-03-02T09:00:00Z",
        "ended_at": None,
        "ended_by": None,
        "last_seq": 0,
    }
    for route in (
        f"/v1/sites/other/sessions/{SESSION}",
        f"/v1/sites/{SITE}/sessions/{uuid.uuid4()}",
        f"/v1/sites/{SITE}/sessions/{uuid.uuid4()}/messages",
        f"/v1/sites/{SITE}/visitors/v-nobody/session",
    ):
        response = await http.get(route)
        assert response.status_code == 404, route
        assert "no session" in response.json()["detail"]


@pytest.mark.parametrize(
    "route",
    [
        f"/v1/sites/{SITE}/sessions/not-a-uuid",
        f"/v1/sites/{SITE}/sessions/{SESSION}/messages?limit=0",
        f"/v1/sites/{SITE}/sessions/{SESSION}/messages?limit=501",
        f"/v1/sites/{SITE}/sessions/{SESSION}/messages?after_seq=-1",
        f"/v1/sites/{SITE}/sessions/{SESSION}/messages?after_seq=99999999999999999999999",
        f"/v1/sites/{SITE}/operators/{OPERATOR}/messages?page=0",
        f"/v1/sites/{SITE}/operators/{OPERATOR}/messages?page_size=201",
        f"/v1/sites/{SITE}/operators/{OPERATOR}/messages?page=abc",
        f"/v1/sites/a%20b/operators/{OPERATOR}/sessions",
        f"/v1/sites/{SITE}/visitors/{'v' * 129}/session",
    ],
)
async def test_bad_input_is_a_422_with_the_reason_never_a_500(
    desk: tuple[SessionService, httpx.AsyncClient], route: str
) -> None:
    sessions, http = desk
    await sessions.handle(started())
    response = await http.get(route)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"]


async def test_the_transcript_comes_in_order_from_after_seq_up_to_the_limit(
    desk: tuple[SessionService, httpx.AsyncClient],
) -> None:
    sessions, http = desk
    await sessions.handle(started())
    for n in range(1, 6):
        await sessions.handle(post(f"m{n}", "visitor" if n % 2 else "operator"))
    body = (await http.get(f"/v1/sites/{SITE}/sessions/{SESSION}/messages")).json()
    assert body["session_id"] == str(SESSION)
    assert [(m["seq"], m["text"]) for m in body["messages"]] == [(n, f"m{n}") for n in range(1, 6)]
    assert body["messages"][1]["author"] == "operator"
    assert body["messages"][1]["author_id"] == OPERATOR
    assert body["messages"][0]["author_id"] == VISITOR
    page = await http.get(f"/v1/sites/{SITE}/sessions/{SESSION}/messages?after_seq=2&limit=2")
    assert [m["seq"] for m in page.json()["messages"]] == [3, 4]
    view = (await http.get(f"/v1/sites/{SITE}/sessions/{SESSION}")).json()
    assert view["last_seq"] == 5


async def test_my_communication_lists_the_operators_active_and_held_chats_oldest_first(
    desk: tuple[SessionService, httpx.AsyncClient],
) -> None:
    sessions, http = desk
    await sessions.handle(started())
    await sessions.handle(started(SECOND, visitor="v-bo"))
    await sessions.handle(started(THIRD, visitor="v-cy"))
    await sessions.handle(started(uuid.uuid4(), visitor="v-di", operator="bob"))
    await sessions.handle(hold(session_id=SECOND))
    await sessions.handle(end(session_id=THIRD))
    body = (await http.get(f"/v1/sites/{SITE}/operators/{OPERATOR}/sessions")).json()
    assert [(s["session_id"], s["status"]) for s in body["sessions"]] == [
        (str(SESSION), "active"),
        (str(SECOND), "on_hold"),
    ]
    nobody = await http.get(f"/v1/sites/{SITE}/operators/nobody/sessions")
    assert nobody.status_code == 200 and nobody.json() == {"sessions": []}


async def test_chat_overview_pages_the_messages_of_current_chats_newest_first(
    desk: tuple[SessionService, httpx.AsyncClient],
) -> None:
    sessions, http = desk
    await sessions.handle(started())
    await sessions.handle(started(SECOND, visitor="v-bo"))
    await sessions.handle(started(THIRD, visitor="v-cy"))
    for n in range(3):
        await sessions.handle(post(f"ada {n}"))
        await sessions.handle(post(f"bo {n}", author_id="v-bo", session_id=SECOND))
        await sessions.handle(post(f"cy {n}", author_id="v-cy", session_id=THIRD))
    await sessions.handle(hold(session_id=SECOND))  # held chats are still the operator's
    await sessions.handle(end(session_id=THIRD))  # ended ones are not
    route = f"/v1/sites/{SITE}/operators/{OPERATOR}/messages"
    first = (await http.get(f"{route}?page=1&page_size=4")).json()
    assert (first["page"], first["page_size"], first["total"]) == (1, 4, 6)
    assert [m["text"] for m in first["messages"]] == ["bo 2", "ada 2", "bo 1", "ada 1"]
    second = (await http.get(f"{route}?page=2&page_size=4")).json()
    assert [m["text"] for m in second["messages"]] == ["bo 0", "ada 0"]
    beyond = (await http.get(f"{route}?page=3&page_size=4")).json()
    assert beyond["messages"] == [] and beyond["total"] == 6
    default = (await http.get(route)).json()
    assert (default["page"], default["page_size"], len(default["messages"])) == (1, 50, 6)


async def test_a_visitors_session_is_its_current_one_else_its_latest(
    desk: tuple[SessionService, httpx.AsyncClient],
) -> None:
    sessions, http = desk
    route = f"/v1/sites/{SITE}/visitors/{VISITOR}/session"
    await sessions.handle(started())
    await sessions.handle(end("visitor"))
    latest = (await http.get(route)).json()
    assert (latest["session_id"], latest["status"], latest["ended_by"]) == (
        str(SESSION),
        "ended",
        "visitor",
    )
    await sessions.handle(started(SECOND))
    current = (await http.get(route)).json()
    assert (current["session_id"], current["status"]) == (str(SECOND), "active")
