"""Gateway settings, from VISITOR_GATEWAY_* environment variables (plus AMQP_URL, INTERNAL_API_TOKEN)."""

from __future__ import annotations

from pathlib import Path

from livechat_shared.runtime.settings import ServiceSettings
from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

DEV_SECRET = "dev-only-token-secret-change-me-0123456789"
BUILT_WEB = Path(__file__).resolve().parents[1] / "web" / "dist"
"""Where `make web` puts the console and the widget in a checkout (the image sets its own)."""


class VisitorGatewaySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="VISITOR_GATEWAY_", extra="ignore")

    token_secret: str = Field(
        default=DEV_SECRET,
        min_length=32,
        description="HMAC key that signs visitor tokens and verifies operator tokens (HS256).",
    )
    visitor_token_ttl_seconds: int = Field(default=24 * 3600, ge=60, le=30 * 24 * 3600)
    session_service_url: str = Field(default="http://127.0.0.1:8003")
    browsing_timeout_seconds: int = Field(
        default=60, ge=5, le=3600, description="Site Monitor drops visitors silent this long."
    )
    offline_messages_url: str = Field(default="http://127.0.0.1:8004")
    summary_projector_url: str = Field(default="http://127.0.0.1:8005")
    offer_message_after_seconds: int = Field(
        default=120, ge=0, le=3600, description="Widget offers to leave a message after this wait."
    )
    site_monitor_push_seconds: float = Field(
        default=2.0,
        gt=0,
        le=60,
        description="The Site Monitor is pushed to the consoles at most this often per site, "
        "and only when its visitors changed.",
    )
    site_monitor_shown: int = Field(
        default=200,
        ge=1,
        le=5000,
        description="The Site Monitor lists at most this many browsing visitors (longest on the "
        "site first) and says how many browse in all: a big site's frame stays small.",
    )
    site_monitor_memory_seconds: int = Field(
        default=3600,
        ge=1,
        le=7 * 24 * 3600,
        description="The Site Monitor forgets a visitor silent this long (and its visit count); "
        "pruned every few seconds, so heartbeats from fresh identities cannot grow memory.",
    )

    web_dir: Path = Field(
        default=BUILT_WEB,
        description="The built operator console and visitor widget (served at /console/, "
        "/widget.js, /widget/demo).",
    )
    widget_origins: list[str] = Field(
        default=[],
        description="Origins of the websites that embed the widget from another origin (CORS), "
        'e.g. ["https://www.example.com"]; empty: only pages of the gateway\'s own origin.',
    )

    # Operator tokens (see README "Security"): HS256 with token_secret, and/or a real provider
    token_leeway_seconds: int = Field(default=30, ge=0, le=300, description="Clock skew allowed.")
    shared_secret_operator_tokens: bool = Field(
        default=True,
        description="Accept HS256 operator tokens signed with token_secret (development); turn "
        "off in production once operator tokens come from the identity provider.",
    )
    operator_jwks_url: str | None = Field(
        default=None,
        description="The identity provider's JWKS URL; set it to accept its RS256/ES256 tokens.",
    )
    operator_token_issuer: str | None = Field(
        default=None, description="The `iss` the provider's tokens must carry."
    )
    operator_token_audience: str | None = Field(
        default=None, description="The `aud` the provider's tokens must carry (this API's id)."
    )
    operator_token_algorithms: list[str] = Field(default=["RS256", "ES256"], min_length=1)
    operator_site_claim: str = Field(default="site", min_length=1)
    operator_role_claim: str = Field(
        default="role", min_length=1, description="Holds `operator`, or a list containing it."
    )
    jwks_cache_seconds: int = Field(default=300, ge=10, le=24 * 3600)

    # Limits that protect everyone else from one client
    sockets_per_identity: int = Field(
        default=5, ge=1, le=100, description="WebSockets one visitor or operator may hold here."
    )
    identity_requests_per_second: float = Field(
        default=2.0, gt=0, description="Sustained rate of one identity on the public routes."
    )
    identity_request_burst: int = Field(default=20, ge=1)
    address_requests_per_second: float = Field(
        default=20.0, gt=0, description="Sustained rate of one client address on public routes."
    )
    address_request_burst: int = Field(default=200, ge=1)
    rate_limit_keys: int = Field(
        default=100_000,
        ge=100,
        description="Identities and addresses tracked at most; the idlest are forgotten first.",
    )
    max_body_bytes: int = Field(
        default=64 * 1024, ge=1024, description="Larger request bodies are refused with 413."
    )
    trust_forwarded_for: bool = Field(
        default=False,
        description="Take the client address from X-Forwarded-For (only behind a proxy that "
        "sets it); otherwise the peer address.",
    )

    socket_buffer_frames: int = Field(
        default=256,
        ge=1,
        le=100_000,
        description="Frames queued per socket; a socket whose buffer fills is closed (1013).",
    )
    socket_send_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="Longest one frame may take to send; a slower socket is closed (4408).",
    )
    presence_refresh_seconds: float = Field(
        default=20.0,
        gt=0,
        le=3600,
        description="How often the replica renews its operators' console claims; keep it well "
        "under QUEUE_MANAGER_OPERATOR_CONNECTION_LEASE_SECONDS.",
    )

    @model_validator(mode="after")
    def _provider_needs_issuer_and_audience(self) -> VisitorGatewaySettings:
        if self.operator_jwks_url and not (
            self.operator_token_issuer and self.operator_token_audience
        ):
            raise ValueError(
                "operator_jwks_url needs operator_token_issuer and operator_token_audience"
            )
        for algorithm in self.operator_token_algorithms:
            if algorithm not in {"RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256"}:
                raise ValueError(f"{algorithm} is not an asymmetric algorithm")
        return self
