"""Operator tokens from a real identity provider: RS256/ES256 checked against its JWKS, served
here by a tiny HTTP server on 127.0.0.1 with key pairs made for the test."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from tests.unit.visitor_gateway.edge import SECRET, client, gateway_app
from tests.unit.visitor_gateway.test_claims_over_http import operator_token

ISSUER = "https://login.example.com/realms/acme"
AUDIENCE = "livechat-gateway"
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
FORGER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


class Jwks:
    def __init__(self) -> None:
        rsa_jwk = json.loads(RSAAlgorithm.to_jwk(RSA_KEY.public_key()))
        ec_jwk = json.loads(ECAlgorithm.to_jwk(EC_KEY.public_key()))
        self.keys = [rsa_jwk | {"kid": "rsa-1", "use": "sig"}, ec_jwk | {"kid": "ec-1"}]
        self.fetches = 0
        self.url = ""


@pytest.fixture
def jwks() -> Iterator[Jwks]:
    served = Jwks()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served.fetches += 1
            body = json.dumps({"keys": served.keys}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    served.url = f"http://127.0.0.1:{server.server_address[1]}/realms/acme/certs"
    yield served
    server.shutdown()
    server.server_close()


def provider_token(key: Any, kid: str, algorithm: str = "RS256", **claims: Any) -> str:
    now = datetime.now(UTC)
    base: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "ann",
        "site": "acme",
        "role": "operator",
        "iat": now,
        "exp": now + timedelta(minutes=5),
    }
    base.update(claims)
    return jwt.encode(base, key, algorithm=algorithm, headers={"kid": kid})


def provider_settings(jwks: Jwks, **more: Any) -> dict[str, Any]:
    return {
        "operator_jwks_url": jwks.url,
        "operator_token_issuer": ISSUER,
        "operator_token_audience": AUDIENCE,
        **more,
    }


async def presence(settings: dict[str, Any], token: str) -> tuple[int, str]:
    app, _ = gateway_app(**settings)
    async with client(app, authorization=f"Bearer {token}") as http:
        response = await http.put("/v1/operator/presence", json={"presence": "online"})
    return response.status_code, response.json().get("detail", "")


async def test_rs256_and_es256_tokens_of_the_provider_are_accepted_and_its_keys_cached(
    jwks: Jwks,
) -> None:
    app, published = gateway_app(**provider_settings(jwks))
    tokens = [
        provider_token(RSA_KEY, "rsa-1"),
        provider_token(EC_KEY, "ec-1", "ES256", sub="bob"),
        provider_token(RSA_KEY, "rsa-1", sub="cy", role=["offline_access", "operator"]),
    ]
    for token in tokens * 3:
        async with client(app, authorization=f"Bearer {token}") as http:
            response = await http.put("/v1/operator/presence", json={"presence": "online"})
            assert response.status_code == 202, response.text
    assert [m.operator_id for m in published.messages[:3]] == ["ann", "bob", "cy"]  # type: ignore[attr-defined]
    assert jwks.fetches == 1


@pytest.mark.parametrize(
    "token, reason",
    [
        (lambda: provider_token(RSA_KEY, "rsa-1", aud="another-api"), "audience"),
        (lambda: provider_token(RSA_KEY, "rsa-1", iss="https://evil.example.com"), "issuer"),
        (lambda: provider_token(FORGER_KEY, "rsa-1"), "not valid"),
        (lambda: provider_token(FORGER_KEY, "someone-elses-key"), "signing key"),
        (lambda: provider_token(RSA_KEY, "rsa-1", role="superuser"), "role is not operator"),
        (lambda: provider_token(RSA_KEY, "rsa-1", sub="../../other/operators/x"), "sub"),
        (lambda: provider_token(RSA_KEY, "rsa-1", site="acme.eu"), "site"),
        (
            lambda: provider_token(RSA_KEY, "rsa-1", exp=datetime.now(UTC) - timedelta(minutes=2)),
            "expired",
        ),
        (lambda: provider_token(RSA_KEY, "rsa-1", "RS512"), "not accepted"),
        (lambda: jwt.encode({"sub": "ann"}, "", algorithm="none"), "not accepted"),
    ],
)
async def test_provider_tokens_with_the_wrong_audience_issuer_key_or_claims_are_401(
    jwks: Jwks, token: Any, reason: str
) -> None:
    status, detail = await presence(provider_settings(jwks), token())
    assert status == 401
    assert reason in detail


async def test_a_provider_token_with_the_admin_role_may_change_the_site_settings(
    jwks: Jwks,
) -> None:
    app, published = gateway_app(**provider_settings(jwks))
    admin = provider_token(RSA_KEY, "rsa-1", role=["offline_access", "admin"])
    operator = provider_token(RSA_KEY, "rsa-1", role=["offline_access", "operator"])
    body = {"max_chats": 4}
    async with client(app, authorization=f"Bearer {admin}") as http:
        assert (await http.put("/v1/admin/settings/max-chats", json=body)).status_code == 202
        assert (
            await http.put("/v1/operator/presence", json={"presence": "online"})
        ).status_code == 202
    async with client(app, authorization=f"Bearer {operator}") as http:
        refused = await http.put("/v1/admin/settings/max-chats", json=body)
    assert refused.status_code == 403 and "admin" in refused.json()["detail"]
    assert [m.type_name() for m in published.messages] == ["SetSiteMaxChats", "SetOperatorPresence"]


async def test_a_small_clock_skew_is_allowed(jwks: Jwks) -> None:
    late = provider_token(RSA_KEY, "rsa-1", exp=datetime.now(UTC) - timedelta(seconds=5))
    assert (await presence(provider_settings(jwks), late))[0] == 202


async def test_shared_secret_operator_tokens_can_be_turned_off(jwks: Jwks) -> None:
    settings = provider_settings(jwks, shared_secret_operator_tokens=False)
    status, detail = await presence(settings, operator_token())
    assert status == 401 and "identity provider" in detail
    assert (await presence(settings, provider_token(RSA_KEY, "rsa-1")))[0] == 202
    assert (await presence(provider_settings(jwks), operator_token()))[0] == 202  # the default


async def test_an_unreachable_provider_is_a_503_not_a_401() -> None:
    settings = {
        "operator_jwks_url": "http://127.0.0.1:9/certs",
        "operator_token_issuer": ISSUER,
        "operator_token_audience": AUDIENCE,
    }
    status, _ = await presence(settings, provider_token(RSA_KEY, "rsa-1"))
    assert status == 503


def test_a_provider_needs_its_issuer_and_audience() -> None:
    with pytest.raises(ValueError, match="issuer"):
        gateway_app(operator_jwks_url="http://127.0.0.1:9/certs", token_secret=SECRET)
