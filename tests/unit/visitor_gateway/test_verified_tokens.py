"""A token checked once is not decoded again, yet still expires and keeps to its role."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from visitor_gateway.domain.auth import (
    ISSUER,
    Caller,
    InvalidToken,
    WrongRole,
    algorithm_of,
    issue,
    verify,
)

SECRET = "unit-secret-0123456789-0123456789-xyz"
ANN = Caller(role="operator", site_id="acme", subject="ann")


def test_a_token_seen_before_is_refused_once_it_expires() -> None:
    now = datetime.now(UTC)
    token = issue(SECRET, ANN, timedelta(minutes=5), now=now)
    assert verify(SECRET, token, "operator", now=now) == ANN
    assert verify(SECRET, token, "operator", now=now + timedelta(minutes=5)) == ANN  # leeway
    with pytest.raises(InvalidToken, match="expired"):
        verify(SECRET, token, "operator", now=now + timedelta(minutes=5, seconds=31))


def test_a_token_seen_before_still_keeps_to_its_role_and_secret() -> None:
    token = issue(SECRET, ANN, timedelta(minutes=5))
    assert verify(SECRET, token, "operator") == ANN
    with pytest.raises(WrongRole):
        verify(SECRET, token, "visitor")
    with pytest.raises(InvalidToken):
        verify("another-secret-0123456789-0123456789", token, "operator")


def test_a_refused_token_is_refused_every_time() -> None:
    now = datetime.now(UTC)
    claims = {"iss": ISSUER, "sub": "ann", "site": "acme", "role": "operator", "exp": now}
    expired = jwt.encode(claims, SECRET, algorithm="HS256")
    for _ in range(2):
        with pytest.raises(InvalidToken, match="expired"):
            verify(SECRET, expired, "operator", now=now + timedelta(minutes=1))
    forged = expired[:-4] + ("AAAA" if not expired.endswith("AAAA") else "BBBB")
    for _ in range(2):
        with pytest.raises(InvalidToken):
            verify(SECRET, forged, "operator")


def test_the_algorithm_is_read_from_the_header_alone_and_garbage_is_refused() -> None:
    token = issue(SECRET, ANN, timedelta(minutes=5))
    assert algorithm_of(token) == "HS256"
    assert algorithm_of(token.partition(".")[0] + ".garbage.more") == "HS256"
    for bad in ("", "not a token", "bm90IGpzb24.e30.", "W10.e30."):
        with pytest.raises(InvalidToken, match="not valid"):
            algorithm_of(bad)
