"""Token claims at the edge: whatever signed a token, its ids must be ones the contracts carry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from livechat_shared.contracts.envelope import Identifier, SiteId
from pydantic import TypeAdapter, ValidationError
from visitor_gateway.domain.auth import (
    ISSUER,
    Caller,
    InvalidToken,
    WrongRole,
    issue,
    require_admin,
    verify,
)

SECRET = "unit-secret-0123456789-0123456789-xyz"


def token(**claims: Any) -> str:
    now = datetime.now(UTC)
    base: dict[str, Any] = {"iss": ISSUER, "sub": "ann", "site": "acme", "role": "operator"}
    base.update(iat=now, exp=now + timedelta(minutes=5))
    base.update(claims)
    return jwt.encode({k: v for k, v in base.items() if v is not None}, SECRET, algorithm="HS256")


@pytest.mark.parametrize(
    "claims, reason",
    [
        ({"sub": "ann smith"}, "sub is not a valid id"),
        ({"sub": "a" * 200}, "sub is not a valid id"),
        ({"sub": "../../other/operators/bob"}, "sub is not a valid id"),
        ({"sub": ".."}, "sub is not a valid id"),
        ({"sub": ".hidden"}, "sub is not a valid id"),
        ({"sub": "ann%2F..%2Fbob"}, "sub is not a valid id"),
        ({"sub": "\u0430nn"}, "sub is not a valid id"),  # a Cyrillic a
        ({"sub": "ann\u2024"}, "sub is not a valid id"),  # one dot leader, a look-alike
        ({"site": "acme.eu"}, "site is not a valid site id"),
        ({"site": "acme/../other"}, "site is not a valid site id"),
        ({"site": "s" * 65}, "site is not a valid site id"),
        ({"site": 7}, "names no site"),
        ({"site": None}, "names no site"),
        ({"role": "superuser"}, "role is not operator"),
        ({"role": None}, "role is not operator"),
        ({"role": ["visitor"]}, "needs an operator token"),
    ],
)
def test_claims_the_contracts_cannot_carry_are_refused_with_a_reason(
    claims: dict[str, Any], reason: str
) -> None:
    with pytest.raises(InvalidToken, match=reason):
        verify(SECRET, token(**claims), "operator")


def test_ordinary_claims_pass_and_roles_may_come_as_a_list() -> None:
    assert verify(SECRET, token(sub="op-7@acme:eu_1.x"), "operator").subject == "op-7@acme:eu_1.x"
    assert verify(SECRET, token(role=["viewer", "operator"]), "operator").site_id == "acme"


def test_an_admin_token_is_an_operator_token_that_may_also_change_the_settings() -> None:
    admin = verify(SECRET, token(role="admin"), "operator")
    assert (admin.role, admin.subject, admin.admin) == ("operator", "ann", True)
    assert require_admin(admin) is admin
    assert verify(SECRET, token(role=["operator", "admin"]), "operator").admin
    operator = verify(SECRET, token(), "operator")
    assert not operator.admin
    with pytest.raises(WrongRole, match="needs an admin token"):
        require_admin(operator)
    with pytest.raises(WrongRole, match="needs a visitor token"):  # a 403, not a 401
        verify(SECRET, token(role="admin"), "visitor")


def test_an_issued_admin_token_says_admin_and_comes_back_as_one() -> None:
    minted = issue(SECRET, Caller("operator", "acme", "ann", admin=True), timedelta(minutes=5))
    assert jwt.decode(minted, SECRET, algorithms=["HS256"], issuer=ISSUER)["role"] == "admin"
    assert verify(SECRET, minted, "operator").admin


def test_a_small_clock_skew_is_allowed_but_not_more() -> None:
    past = datetime.now(UTC) - timedelta(seconds=10)
    assert verify(SECRET, token(exp=past), "operator").subject == "ann"
    with pytest.raises(InvalidToken, match="expired"):
        verify(SECRET, token(exp=past), "operator", leeway=timedelta(0))


@pytest.mark.parametrize("word", [".", "..", ".x", "a/b", "a%2e", "a b", "", "é"])
def test_an_identifier_is_never_a_path_trick(word: str) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(Identifier).validate_python(word)
    with pytest.raises(ValidationError):
        TypeAdapter(SiteId).validate_python(word)


def test_dots_are_fine_inside_an_identifier_but_not_in_a_site() -> None:
    assert TypeAdapter(Identifier).validate_python("ann.smith") == "ann.smith"
    with pytest.raises(ValidationError):
        TypeAdapter(SiteId).validate_python("acme.eu")
