"""What the HTTP and WebSocket entry points share, and the checks they need."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from livechat_shared.contracts.views import SessionView

from visitor_gateway.adapters.hub import Hub
from visitor_gateway.adapters.identity_provider import IdentityProvider, IdentityProviderUnavailable
from visitor_gateway.adapters.offline_messages import OfflineMessagesClient
from visitor_gateway.adapters.session_service import SessionServiceClient, SessionServiceUnavailable
from visitor_gateway.adapters.summary_projector import SummaryProjectorClient
from visitor_gateway.domain.auth import (
    Caller,
    InvalidToken,
    Role,
    WrongRole,
    algorithm_of,
    require_admin,
    verify,
)
from visitor_gateway.domain.limits import RateLimit, SocketQuota, retry_after
from visitor_gateway.domain.site_monitor import SiteMonitor
from visitor_gateway.ports import Publisher
from visitor_gateway.settings import VisitorGatewaySettings


@dataclass
class Limits:
    identity: RateLimit
    address: RateLimit
    sockets: SocketQuota

    @classmethod
    def of(cls, settings: VisitorGatewaySettings) -> Limits:
        keys = settings.rate_limit_keys
        return cls(
            identity=RateLimit(
                settings.identity_requests_per_second, settings.identity_request_burst, keys
            ),
            address=RateLimit(
                settings.address_requests_per_second, settings.address_request_burst, keys
            ),
            sockets=SocketQuota(settings.sockets_per_identity),
        )

    def check(self, limit: RateLimit, key: str) -> None:
        """429 with Retry-After if `key` spent its requests."""
        wait = limit.take(key, time.monotonic())
        if wait is not None:
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                "too many requests, slow down",
                headers={"Retry-After": retry_after(wait)},
            )

    def forget_idle(self) -> None:
        now = time.monotonic()
        self.identity.forget_idle(now)
        self.address.forget_idle(now)


@dataclass
class Gateway:
    settings: VisitorGatewaySettings
    publisher: Publisher
    hub: Hub
    sessions: SessionServiceClient
    offline_messages: OfflineMessagesClient
    summary: SummaryProjectorClient
    monitor: SiteMonitor
    provider: IdentityProvider | None = None  # operator tokens of a real identity provider
    limits: Limits = field(init=False)

    def __post_init__(self) -> None:
        self.limits = Limits.of(self.settings)

    async def caller(self, token: str | None, role: Role) -> Caller:
        """Who calls, or 401 with the reason (IdentityProviderUnavailable: a 503)."""
        if not token:
            raise _unauthorized("a bearer token is required")
        try:
            return await self._verified(token, role)
        except WrongRole as error:
            raise HTTPException(status.HTTP_403_FORBIDDEN, str(error)) from error
        except InvalidToken as error:
            raise _unauthorized(str(error)) from error
        except IdentityProviderUnavailable as error:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                "the identity provider's keys cannot be fetched now, retry shortly",
                headers={"Retry-After": "5"},
            ) from error

    async def _verified(self, token: str, role: Role) -> Caller:
        algorithm = algorithm_of(token)
        leeway = timedelta(seconds=self.settings.token_leeway_seconds)
        if algorithm == "HS256":
            if role == "operator" and not self.settings.shared_secret_operator_tokens:
                raise InvalidToken("operator tokens must come from the identity provider")
            return verify(self.settings.token_secret, token, role, leeway)
        if role == "operator" and self.provider is not None and self.provider.signs(algorithm):
            return await self.provider.verify(token)
        raise InvalidToken(f"{algorithm} tokens are not accepted here")

    async def current_session(self, caller: Caller) -> SessionView:
        try:
            found = await self.sessions.visitor_session(caller.site_id, caller.subject)
        except SessionServiceUnavailable as error:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE, "sessions unavailable"
            ) from error
        if found is None or found.site_id != caller.site_id or found.visitor_id != caller.subject:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "you have no chat")
        return found


def _unauthorized(reason: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, reason, headers={"WWW-Authenticate": "Bearer"}
    )


_bearer = HTTPBearer(auto_error=False)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _gateway(request: Request) -> Gateway:
    found = request.app.state.gateway
    assert isinstance(found, Gateway)
    return found


async def gateway_of(request: Request) -> Gateway:
    # async on purpose: FastAPI runs plain `def` dependencies in a thread pool, per request
    return _gateway(request)


GatewayDep = Annotated[Gateway, Depends(gateway_of)]

# The dependencies below take the gateway from the request, not through GatewayDep: FastAPI
# solves a sub-dependency again wherever it is declared (its cache saves only the call), and
# each one solved costs about 15 µs of a command request's ~250.


async def _visitor(request: Request, credentials: Credentials) -> Caller:
    token = credentials.credentials if credentials else None
    return await _gateway(request).caller(token, "visitor")


async def _operator(request: Request, credentials: Credentials) -> Caller:
    token = credentials.credentials if credentials else None
    return await _gateway(request).caller(token, "operator")


async def _admin(request: Request, credentials: Credentials) -> Caller:
    token = credentials.credentials if credentials else None
    operator = await _gateway(request).caller(token, "operator")
    try:
        return require_admin(operator)
    except WrongRole as error:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(error)) from error


VisitorDep = Annotated[Caller, Depends(_visitor)]
OperatorDep = Annotated[Caller, Depends(_operator)]
"""An operator, or a site administrator (an operator of its site too)."""
AdminDep = Annotated[Caller, Depends(_admin)]
"""A site administrator: an operator token with the role `admin`."""


def client_address(request: Request, settings: VisitorGatewaySettings) -> str:
    forwarded = request.headers.get("x-forwarded-for") if settings.trust_forwarded_for else None
    if forwarded:
        return forwarded.split(",")[0].strip()[:64]
    return request.client.host if request.client else "unknown"


def _check_address(request: Request, gateway: Gateway) -> None:
    gateway.limits.check(gateway.limits.address, client_address(request, gateway.settings))


async def _address_limited(request: Request) -> None:
    _check_address(request, _gateway(request))


async def _limited_visitor(request: Request, visitor: VisitorDep) -> Caller:
    gateway = _gateway(request)
    _check_address(request, gateway)
    gateway.limits.check(gateway.limits.identity, f"{visitor.site_id}/{visitor.subject}")
    return visitor


AddressLimited = Depends(_address_limited)
"""Public routes without an identity (a new visitor): limited per client address."""
LimitedVisitorDep = Annotated[Caller, Depends(_limited_visitor)]
"""A visitor on a public route that costs the others: limited per identity and per address."""
