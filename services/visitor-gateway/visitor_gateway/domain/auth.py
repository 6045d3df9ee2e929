"""Bearer tokens: who is calling (a visitor or an operator of one site), checked on every request.

Visitor tokens are HS256 JWTs the gateway issues itself. Operator tokens are either HS256 with the
same secret (development: `python -m visitor_gateway.tokens` mints one) or RS256/ES256 tokens of a
real identity provider, checked against its JWKS (see `identity_provider.py`). Whatever signed
it, a token's claims must fit the contracts' ids: they end up in commands, routing keys and the
internal APIs' URLs, so an odd `sub` or `site` is refused here, never carried further.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Literal

import jwt
from livechat_shared.contracts.envelope import Identifier, SiteId
from pydantic import TypeAdapter, ValidationError

Role = Literal["visitor", "operator"]
ADMIN = "admin"
"""The role claim of a site administrator: an operator of its site who may also change the
site's settings (the maximum number of chats)."""
ISSUER = "livechat"
LEEWAY = timedelta(seconds=30)
"""Clock skew allowed between whoever signed a token and this gateway."""

VERIFIED_TOKENS = 1024
"""Tokens whose signature and claims were checked, kept so that a client's next request with the
same token costs a dictionary look-up instead of a JWT decode (about a third of a command
request's CPU). Only successes are kept (a forged token is never kept), and the expiry is
checked again on every use. Few, least recently used first out: the repeat callers are the
operators and the visitors in a chat, and the memory (under 1 MB) stays put after a flood of
fresh identities (tests/e2e/test_gateway_edge_limits.py allows 4 MB)."""

_SUBJECT: TypeAdapter[str] = TypeAdapter(Identifier)
_SITE: TypeAdapter[str] = TypeAdapter(SiteId)


@dataclass(frozen=True)
class Caller:
    role: Role
    site_id: str
    subject: str  # the visitor id or the operator id
    admin: bool = False
    """An operator whose token says `admin`: it may change its site's settings too."""


class InvalidToken(Exception):
    """The reason is safe to show to the caller."""


class WrongRole(InvalidToken):
    """A valid token of the other role: the caller is known, but may not do this."""


def issue(secret: str, caller: Caller, ttl: timedelta, now: datetime | None = None) -> str:
    issued = now or datetime.now(UTC)
    claims = {
        "iss": ISSUER,
        "sub": caller.subject,
        "site": caller.site_id,
        "role": ADMIN if caller.admin else caller.role,
        "iat": issued,
        "exp": issued + ttl,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def algorithm_of(token: str) -> str:
    """The `alg` the token's header names (unverified: it only picks the key to check with)."""
    return _algorithm(token.partition(".")[0])


@lru_cache(maxsize=64)
def _algorithm(header_segment: str) -> str:
    """Kept per header, not per token: the headers in use are few (ours, the provider's per
    key), and a flood of forged tokens cannot fill memory with them."""
    try:
        # PyJWT reads a header only from a whole token: give it this header with `{}` claims
        algorithm = jwt.get_unverified_header(f"{header_segment}.e30.").get("alg")
    except (jwt.PyJWTError, RecursionError) as error:
        raise InvalidToken("the token is not valid") from error
    return str(algorithm)


def verify(
    secret: str,
    token: str,
    role: Role,
    leeway: timedelta = LEEWAY,
    now: datetime | None = None,
) -> Caller:
    """A token the gateway signed (visitors) or one signed with the shared secret (operators)."""
    claims = _shared_secret_claims(secret, token, leeway)
    # The cached check was made when the token was first seen: its expiry is checked again now,
    # as PyJWT does (expired once `exp` is at or before now minus the leeway).
    moment = (now or datetime.now(UTC)).timestamp()
    if int(claims["exp"]) <= moment - leeway.total_seconds():
        raise InvalidToken("the token has expired")
    return caller_from(claims, role)


@lru_cache(maxsize=VERIFIED_TOKENS)
def _shared_secret_claims(secret: str, token: str, leeway: timedelta) -> MappingProxyType[str, Any]:
    """The claims of an HS256 token signed with `secret`, checked once per token (a failure
    raises and is not kept); read-only, since every later request shares them."""
    return MappingProxyType(
        decoded(token, secret, algorithms=["HS256"], issuer=ISSUER, leeway=leeway)
    )


def decoded(
    token: str,
    key: Any,
    *,
    algorithms: list[str],
    issuer: str,
    leeway: timedelta,
    audience: str | None = None,
) -> dict[str, Any]:
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=algorithms,
            issuer=issuer,
            audience=audience,
            leeway=leeway,
            options={"require": ["exp", "sub", "iss"]},
        )
    except jwt.ExpiredSignatureError as error:
        raise InvalidToken("the token has expired") from error
    except jwt.InvalidAudienceError as error:
        raise InvalidToken("the token is not meant for this service (audience)") from error
    except jwt.InvalidIssuerError as error:
        raise InvalidToken("the token's issuer is not trusted") from error
    except jwt.PyJWTError as error:
        raise InvalidToken("the token is not valid") from error
    return claims


def caller_from(
    claims: Mapping[str, Any], role: Role, site_claim: str = "site", role_claim: str = "role"
) -> Caller:
    """The caller the claims name, if the contracts can carry them; else InvalidToken.

    The role claim is the role itself or, as identity providers put roles, a list holding it.
    `admin` counts as `operator` too (a site administrator is an operator of its site)."""
    held = _roles(claims.get(role_claim))
    admin = ADMIN in held
    if role not in held and not (role == "operator" and admin):
        other = {"operator", ADMIN} if role == "visitor" else {"visitor"}
        if held & other:
            raise WrongRole(f"this needs {'an' if role == 'operator' else 'a'} {role} token")
        raise InvalidToken(f"the token's role is not {role}")
    site = claims.get(site_claim)
    if not isinstance(site, str) or not site:
        raise InvalidToken("the token names no site")
    try:
        _SITE.validate_python(site, strict=True)
    except ValidationError as error:
        raise InvalidToken("the token's site is not a valid site id") from error
    try:
        subject = _SUBJECT.validate_python(claims.get("sub"), strict=True)
    except ValidationError as error:
        raise InvalidToken("the token's sub is not a valid id") from error
    return Caller(role=role, site_id=site, subject=subject, admin=role == "operator" and admin)


def _roles(claim: object) -> set[str]:
    if isinstance(claim, str):
        return {claim}
    if isinstance(claim, list):
        return {r for r in claim if isinstance(r, str)}
    return set()


def require_admin(caller: Caller) -> Caller:
    """The caller if it is its site's administrator; else WrongRole (a 403)."""
    if not caller.admin:
        raise WrongRole("this needs an admin token (a site administrator's)")
    return caller
