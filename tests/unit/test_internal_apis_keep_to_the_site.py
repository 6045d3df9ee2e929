"""The internal read APIs answer only with records of the site asked about, even if a lookup
behind them ignored the site; and they accept only ids of the contracts' one definition."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from livechat_shared.contracts import Channel
from livechat_shared.contracts.views import (
    MessageQueue,
    OfflineMessageView,
    SessionList,
    SessionView,
)
from offline_messages.http import build_read_api as build_offline_api
from session_service.http import build_read_api as build_sessions_api
from visitor_gateway.adapters.internal_api import path

TOKEN = "unit-internal-token-0123456789"
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
SESSION = uuid.UUID("5e551011-0000-4000-8000-000000000001")
OTHER_SITES_SESSION = SessionView(
    session_id=SESSION,
    site_id="victim",
    visitor_id="v1",
    operator_id="bob",
    channel=Channel.CHAT,
    status="active",
    started_at=NOW,
    last_seq=3,
)
OTHER_SITES_MESSAGE = OfflineMessageView(
    offline_message_id=SESSION,
    site_id="victim",
    visitor_id="v1",
    name="Victim",
    email="victim@example.com",
    text="private",
    left_at=NOW,
    status="waiting",
)


class CarelessSessions:
    """Lookups that forget the site: every answer is the victim site's."""

    async def session(self, site_id: str, session_id: uuid.UUID) -> SessionView:
        return OTHER_SITES_SESSION

    async def visitor_session(self, site_id: str, visitor_id: str) -> SessionView:
        return OTHER_SITES_SESSION

    async def operator_sessions(self, site_id: str, operator_id: str) -> SessionList:
        return SessionList(sessions=[OTHER_SITES_SESSION])


class CarelessMessages:
    async def queue(self, site_id: str, status: str, limit: int) -> MessageQueue:
        return MessageQueue(messages=[OTHER_SITES_MESSAGE])

    async def message(self, site_id: str, offline_message_id: uuid.UUID) -> OfflineMessageView:
        return OTHER_SITES_MESSAGE


def client(router: Any) -> httpx.AsyncClient:
    app = FastAPI()
    app.include_router(router)
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://internal",
        headers={"X-Internal-Token": TOKEN},
    )


async def test_the_session_api_never_returns_another_sites_sessions() -> None:
    async with client(build_sessions_api(CarelessSessions(), TOKEN)) as http:  # type: ignore[arg-type]
        assert (await http.get(f"/v1/sites/attacker/sessions/{SESSION}")).status_code == 404
        assert (await http.get("/v1/sites/attacker/visitors/v1/session")).status_code == 404
        mine = await http.get("/v1/sites/attacker/operators/bob/sessions")
        assert mine.json() == {"sessions": []}
        assert (await http.get(f"/v1/sites/victim/sessions/{SESSION}")).status_code == 200


async def test_the_message_queue_api_never_returns_another_sites_messages() -> None:
    async with client(build_offline_api(CarelessMessages(), TOKEN)) as http:  # type: ignore[arg-type]
        assert (await http.get("/v1/sites/attacker/messages")).json() == {"messages": []}
        assert (await http.get(f"/v1/sites/attacker/messages/{SESSION}")).status_code == 404
        assert (await http.get(f"/v1/sites/victim/messages/{SESSION}")).status_code == 200


@pytest.mark.parametrize(
    "route",
    [
        "/v1/sites/..%2Fvictim/operators/bob/sessions",
        "/v1/sites/attacker/operators/..%2F..%2Fvictim/sessions",
        "/v1/sites/attacker/operators/%2e%2e/sessions",
        "/v1/sites/attacker/operators/.hidden/sessions",
        "/v1/sites/attacker/visitors/v%E2%80%8B1/session",  # a zero-width space
        "/v1/sites/vict%C4%B1m/operators/bob/sessions",  # a dotless i
    ],
)
async def test_internal_apis_refuse_ids_outside_the_one_definition(route: str) -> None:
    async with client(build_sessions_api(CarelessSessions(), TOKEN)) as http:  # type: ignore[arg-type]
        assert (await http.get(route)).status_code in (404, 422)


def test_the_gateway_builds_internal_paths_only_from_checked_encoded_ids() -> None:
    assert path("v1", "sites", "acme", "operators", "ann.b@x:y", "sessions") == (
        "/v1/sites/acme/operators/ann.b%40x%3Ay/sessions"
    )
    assert path("v1", "sites", "acme", "sessions", SESSION).endswith(str(SESSION))
    for trick in ["..", ".", "../x", "a/b", "a%2Fb", "a b", "\uff0e\uff0e", ""]:
        with pytest.raises(ValueError):
            path("v1", "sites", "acme", "operators", trick)


async def test_the_summary_never_shows_another_sites_record() -> None:
    from summary_projector.adapters.memory_store import MemorySummaryStore
    from summary_projector.changes import Changes
    from summary_projector.ports import SiteRecord
    from summary_projector.queries import SummaryQueries

    class CarelessStore(MemorySummaryStore):
        async def load(self, site_id: str) -> SiteRecord:
            return await super().load("victim")

    store = CarelessStore()
    victim = SiteRecord.empty("victim")
    await store.save(SiteRecord(victim.state, 7, ("e1",)), 0)
    summaries = SummaryQueries(store, Changes(), lambda: NOW)
    version, summary = await summaries.site("attacker")
    assert (version, summary.site_id) == (0, "attacker")
    assert (await summaries.operator("attacker", "bob"))[0] == 0
    assert (await summaries.queue("attacker"))[0] == 0
