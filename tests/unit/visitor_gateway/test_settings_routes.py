"""The maximum number of chats through the gateway: who may read and set it, what it sends,
and how it reads the projector's answer (announced, checked to be the caller's site)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from livechat_shared.contracts import AnnounceSiteSettings, SetOperatorCapacity, SetSiteMaxChats
from livechat_shared.contracts.views import (
    OperatorChatLimitView,
    OperatorMaxChatsView,
    SiteSettingsView,
)
from visitor_gateway.adapters.summary_projector import SummaryProjectorClient
from visitor_gateway.api import settings as settings_routes
from visitor_gateway.api.gateway import Gateway
from visitor_gateway.domain.auth import Caller, issue

from tests.unit.visitor_gateway.edge import SECRET, Published, client, gateway_app

ADMIN_ROUTES = [
    ("GET", "/v1/admin/settings", None),
    ("PUT", "/v1/admin/settings/max-chats", {"max_chats": 5}),
    ("PUT", "/v1/admin/operators/bob/max-chats", {"max_chats": 2}),
]
SETTINGS = SiteSettingsView(
    site_id="acme",
    max_chats=3,
    from_default=True,
    operators=[OperatorMaxChatsView(operator_id="bob", max_chats=2)],
)


def token(subject: str = "ann", admin: bool = False, site: str = "acme") -> str:
    return issue(SECRET, Caller("operator", site, subject, admin=admin), timedelta(minutes=5))


async def test_an_admin_sets_the_site_maximum_and_an_operators_own_or_clears_it() -> None:
    app, published = gateway_app()
    async with client(app, authorization=f"Bearer {token(admin=True)}") as http:
        site = await http.put("/v1/admin/settings/max-chats", json={"max_chats": 7})
        own = await http.put("/v1/admin/operators/bob/max-chats", json={"max_chats": 2})
        cleared = await http.put("/v1/admin/operators/bob/max-chats", json={"max_chats": None})
    assert [r.status_code for r in (site, own, cleared)] == [202, 202, 202]
    sent = published.messages
    assert isinstance(sent[0], SetSiteMaxChats)
    assert (sent[0].site_id, sent[0].max_chats) == ("acme", 7)
    assert [(type(m), m.operator_id, m.max_chats) for m in sent[1:]] == [  # type: ignore[attr-defined]
        (SetOperatorCapacity, "bob", 2),
        (SetOperatorCapacity, "bob", None),
    ]


async def test_an_operator_token_gets_403_and_no_token_401_on_the_admin_routes() -> None:
    app, published = gateway_app()
    for authorization, expected in ((f"Bearer {token()}", 403), ("", 401)):
        headers = {"authorization": authorization} if authorization else {}
        async with client(app, **headers) as http:
            for method, route, body in ADMIN_ROUTES:
                response = await http.request(method, route, json=body)
                assert response.status_code == expected, (route, response.text)
                assert response.json()["detail"], route
    assert published.messages == []


@pytest.mark.parametrize(
    "route, body, reason",
    [
        ("/v1/admin/settings/max-chats", {"max_chats": 0}, "greater than or equal to 1"),
        ("/v1/admin/settings/max-chats", {"max_chats": 51}, "less than or equal to 50"),
        ("/v1/admin/settings/max-chats", {"max_chats": None}, "valid integer"),
        ("/v1/admin/settings/max-chats", {}, "Field required"),
        ("/v1/admin/settings/max-chats", {"max_chats": 3, "x": 1}, "Extra inputs"),
        ("/v1/admin/operators/bob/max-chats", {"max_chats": 51}, "less than or equal to 50"),
        ("/v1/admin/operators/bob/max-chats", {}, "Field required"),
        ("/v1/admin/operators/bob%2F..%2Fx/max-chats", {"max_chats": 2}, "pattern"),
    ],
)
async def test_out_of_range_or_odd_input_is_a_422_with_the_reason(
    route: str, body: dict[str, Any], reason: str
) -> None:
    app, published = gateway_app()
    async with client(app, authorization=f"Bearer {token(admin=True)}") as http:
        response = await http.put(route, json=body)
    assert response.status_code in (404, 422), response.text
    if response.status_code == 422:
        assert reason in response.text
    else:  # an encoded slash may not even reach the route: never a command either way
        assert "%2F" in route
    assert published.messages == []


class FakeProjector:
    """Answers nothing until the site's settings are announced (or never)."""

    def __init__(self, published: Published, ever: bool = True) -> None:
        self.published = published
        self.ever = ever

    def announced(self) -> bool:
        return self.ever and any(
            isinstance(m, AnnounceSiteSettings) for m in self.published.messages
        )

    async def site_settings(self, site_id: str) -> SiteSettingsView | None:
        return SETTINGS if self.announced() else None

    async def chat_limit(self, site_id: str, operator_id: str) -> OperatorChatLimitView | None:
        if not self.announced():
            return None
        return OperatorChatLimitView(
            site_id=site_id,
            operator_id=operator_id,
            site_max_chats=3,
            operator_max_chats=2,
            effective_max_chats=2,
        )


def with_projector(ever: bool = True) -> tuple[Any, Published]:
    app, published = gateway_app()
    gateway = app.state.gateway
    assert isinstance(gateway, Gateway)
    gateway.summary = FakeProjector(published, ever)  # type: ignore[assignment]
    return app, published


async def test_a_read_the_projector_cannot_answer_yet_asks_the_queue_manager_to_announce() -> None:
    app, published = with_projector()
    async with client(app, authorization=f"Bearer {token(admin=True)}") as http:
        settings = await http.get("/v1/admin/settings")
        limit = await http.get("/v1/operator/chat-limit")
    assert settings.status_code == 200
    assert settings.json() == SETTINGS.model_dump(mode="json")
    assert limit.json() == {"site_max_chats": 3, "operator_max_chats": 2, "effective_max_chats": 2}
    assert [type(m) for m in published.messages] == [AnnounceSiteSettings]
    assert published.messages[0].site_id == "acme"


async def test_an_operator_reads_its_chat_limit_but_not_the_site_settings() -> None:
    app, _ = with_projector()
    async with client(app, authorization=f"Bearer {token()}") as http:
        assert (await http.get("/v1/operator/chat-limit")).status_code == 200
        assert (await http.get("/v1/admin/settings")).status_code == 403


async def test_settings_never_announced_are_a_503_to_retry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings_routes, "ANNOUNCE_WAIT_SECONDS", 0.3)
    app, _ = with_projector(ever=False)
    async with client(app, authorization=f"Bearer {token(admin=True)}") as http:
        response = await http.get("/v1/admin/settings")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"


async def test_the_client_ignores_an_answer_about_another_site_or_operator() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/settings"):
            return httpx.Response(
                200, json=SETTINGS.model_copy(update={"site_id": "victim"}).model_dump(mode="json")
            )
        other = OperatorChatLimitView(
            site_id="acme",
            operator_id="bob",
            site_max_chats=3,
            operator_max_chats=None,
            effective_max_chats=3,
        )
        return httpx.Response(200, json=other.model_dump(mode="json"))

    projector = SummaryProjectorClient("http://projector", "token")
    projector._http = httpx.AsyncClient(
        transport=httpx.MockTransport(answer), base_url="http://projector"
    )
    assert await projector.site_settings("acme") is None
    assert await projector.chat_limit("acme", "ann") is None
    assert (await projector.chat_limit("acme", "bob")) is not None
    await projector.close()


def test_the_new_routes_are_typed_in_the_openapi() -> None:
    app, _ = gateway_app()
    spec = app.openapi()
    ok = spec["paths"]["/v1/admin/settings"]["get"]["responses"]["200"]
    assert ok["content"]["application/json"]["schema"]["$ref"].endswith("SiteSettingsView")
    limit = spec["paths"]["/v1/operator/chat-limit"]["get"]["responses"]["200"]
    assert limit["content"]["application/json"]["schema"]["$ref"].endswith("ChatLimitView")
    put = spec["paths"]["/v1/admin/settings/max-chats"]["put"]["responses"]
    assert {"202", "401", "403", "422", "503"} <= set(put)


async def test_the_console_learns_whether_its_operator_is_a_site_administrator() -> None:
    app, _ = gateway_app()
    async with client(app, authorization=f"Bearer {token(admin=True)}") as http:
        admin = (await http.get("/v1/operator/me")).json()
    async with client(app, authorization=f"Bearer {token('bob')}") as http:
        operator = (await http.get("/v1/operator/me")).json()
    assert admin == {"site_id": "acme", "operator_id": "ann", "role": "admin"}
    assert operator == {"site_id": "acme", "operator_id": "bob", "role": "operator"}
