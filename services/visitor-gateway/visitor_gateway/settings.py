"""Settings from VISITOR_GATEWAY_* environment variables (plus AMQP_URL, MONGO_URL)."""

from __future__ import annotations

from livechat_shared.runtime.settings import ServiceSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="VISITOR_GATEWAY_", extra="ignore")

    http_port: int = Field(default=8001, ge=1, le=65535)
