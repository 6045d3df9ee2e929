"""Bearer tokens: who is calling (a visitor or an operator of one site), checked on every request.

Tokens are HS256 JWTs. The gateway issues visitor tokens itself when a visitor asks for a chat;
operator tokens come from the console's identity provider, signed with the same key
(`python -m visitor_gateway.tokens` mints one for development).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import jwt

Role = Literal["visitor", "operator"]
ISSUER = "livechat"


@dataclass(frozen=True)
class Caller:
    role: Role
    site_id: str
    subject: str  # the visitor id or the operator id


class InvalidToken(Exception):
    """The reason is safe to show to the caller."""


def issue(secret: str, caller: Caller, ttl: timedelta, now: datetime | None = None) -> str:
    issued = now or datetime.now(UTC)
    claims = {
        "iss": ISSUER,
        "sub": caller.subject,
        "site": caller.site_id,
        "role": caller.role,
        "iat": issued,
        "exp": issued + ttl,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def verify(secret: str, token: str, role: Role) -> Caller:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            issuer=ISSUER,
            options={"require": ["exp", "sub", "iss"]},
        )
    except jwt.ExpiredSignatureError as error:
        raise InvalidToken("the token has expired") from error
    except jwt.PyJWTError as error:
        raise InvalidToken("the token is not valid") from error
    if claims.get("role") != role:
        raise InvalidToken(f"this needs a {role} token")
    site = claims.get("site")
    if not isinstance(site, str) or not site:
        raise InvalidToken("the token names no site")
    return Caller(role=role, site_id=site, subject=str(claims["sub"]))
