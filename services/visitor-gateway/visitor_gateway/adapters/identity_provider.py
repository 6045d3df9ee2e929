"""Operator tokens from a real identity provider (Keycloak, Auth0, Entra ID...): RS256 or ES256,
checked against the provider's published keys (JWKS), its issuer and this gateway's audience."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta

import jwt

from visitor_gateway.domain.auth import Caller, InvalidToken, caller_from, decoded


class IdentityProviderUnavailable(Exception):
    """The provider's keys could not be fetched: not the caller's fault, a retry may work."""


@dataclass
class IdentityProvider:
    jwks_url: str
    issuer: str
    audience: str
    algorithms: tuple[str, ...] = ("RS256", "ES256")
    leeway: timedelta = timedelta(seconds=30)
    site_claim: str = "site"
    role_claim: str = "role"
    keys_cached_for: timedelta = timedelta(minutes=5)
    _keys: jwt.PyJWKClient = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # The key set is cached; an unknown `kid` (the provider rotated its keys) refetches
        # it, at most once per cooldown, so forged kids cannot hammer the provider.
        self._keys = jwt.PyJWKClient(
            self.jwks_url,
            cache_keys=True,
            lifespan=self.keys_cached_for.total_seconds(),
            timeout=5,
        )

    def signs(self, algorithm: str) -> bool:
        return algorithm in self.algorithms

    async def verify(self, token: str) -> Caller:
        try:
            # PyJWKClient fetches with blocking urllib: keep that off the event loop
            signing_key = await asyncio.to_thread(self._keys.get_signing_key_from_jwt, token)
        except jwt.PyJWKClientConnectionError as error:
            raise IdentityProviderUnavailable(str(error)) from error
        except jwt.PyJWKClientError as error:
            raise InvalidToken("the token's signing key is not the identity provider's") from error
        except jwt.PyJWTError as error:
            raise InvalidToken("the token is not valid") from error
        claims = decoded(
            token,
            signing_key.key,
            algorithms=list(self.algorithms),
            issuer=self.issuer,
            audience=self.audience,
            leeway=self.leeway,
        )
        return caller_from(claims, "operator", self.site_claim, self.role_claim)
