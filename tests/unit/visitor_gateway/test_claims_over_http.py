"""Odd claims in a validly signed token are a 401 with the reason on every route, never a 5xx."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from visitor_gateway.domain.auth import ISSUER

from tests.unit.visitor_gateway.edge import SECRET, client, gateway_app

ODD_CLAIMS = [
    {"sub": "ann smith"},
    {"sub": "x" * 200},
    {"sub": "../../other/operators/bob"},
    {"site": "acme.eu"},
    {"role": "root"},
]
OPERATOR_ROUTES = [
    ("PUT", "/v1/operator/presence", {"presence": "online"}),
    ("POST", "/v1/operator/next", {}),
    ("POST", "/v1/operator/offline-messages/next", None),
    ("GET", "/v1/operator/sessions", None),
    ("GET", "/v1/operator/messages", None),
    ("GET", "/v1/operator/summary", None),
    ("GET", "/v1/operator/summary/me", None),
    ("GET", "/v1/operator/queue", None),
    ("GET", "/v1/operator/offline-messages", None),
    ("GET", "/v1/operator/site-monitor", None),
]


def operator_token(**claims: Any) -> str:
    now = datetime.now(UTC)
    base: dict[str, Any] = {"iss": ISSUER, "sub": "ann", "site": "acme", "role": "operator"}
    base.update(iat=now, exp=now + timedelta(minutes=5), **claims)
    return jwt.encode(base, SECRET, algorithm="HS256")


@pytest.mark.parametrize("claims", ODD_CLAIMS, ids=lambda c: "-".join(map(str, c.items())))
async def test_odd_claims_are_401_with_a_reason_on_every_operator_route(
    claims: dict[str, Any],
) -> None:
    app, published = gateway_app()
    async with client(app, authorization=f"Bearer {operator_token(**claims)}") as http:
        for method, route, body in OPERATOR_ROUTES:
            response = await http.request(method, route, json=body)
            assert response.status_code == 401, (route, response.text)
            assert response.json()["detail"], route
            assert response.headers["www-authenticate"] == "Bearer"
    assert published.messages == []


async def test_an_ordinary_operator_token_still_publishes_its_commands() -> None:
    app, published = gateway_app()
    async with client(app, authorization=f"Bearer {operator_token()}") as http:
        response = await http.put("/v1/operator/presence", json={"presence": "online"})
    assert response.status_code == 202
    [command] = published.messages
    assert (command.site_id, command.operator_id) == ("acme", "ann")  # type: ignore[attr-defined]


async def test_a_visitor_token_on_an_operator_route_is_403_and_no_token_is_401() -> None:
    app, published = gateway_app()
    async with client(app) as http:
        visitor = (await http.post("/v1/sites/acme/visitors")).json()["token"]
        as_visitor = {"authorization": f"Bearer {visitor}"}
        for method, route, body in OPERATOR_ROUTES:
            refused = await http.request(method, route, json=body, headers=as_visitor)
            assert refused.status_code == 403, (route, refused.text)
            assert "operator token" in refused.json()["detail"]
            anonymous = await http.request(method, route, json=body)
            assert anonymous.status_code == 401, route
    assert published.messages == []


async def test_a_body_larger_than_the_limit_is_413_before_it_is_read() -> None:
    app, published = gateway_app(max_body_bytes=4096)
    async with client(app) as http:
        visitor = (await http.post("/v1/sites/acme/visitors")).json()["token"]
        message = {"name": "Ada", "email": "ada@example.com", "text": "x" * 5000}
        response = await http.post(
            "/v1/visitor/offline-messages",
            json=message,
            headers={"authorization": f"Bearer {visitor}"},
        )
    assert response.status_code == 413
    assert "larger than 4096" in response.json()["detail"]
    assert published.messages == []
