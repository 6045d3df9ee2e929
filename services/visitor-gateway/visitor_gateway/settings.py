"""Gateway settings, from VISITOR_GATEWAY_* environment variables (plus AMQP_URL, INTERNAL_API_TOKEN)."""

from __future__ import annotations

from livechat_shared.runtime.settings import ServiceSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict

DEV_SECRET = "dev-only-token-secret-change-me-0123456789"


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="VISITOR_GATEWAY_", extra="ignore")

    http_port: int = Field(default=8001, ge=1, le=65535)
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
