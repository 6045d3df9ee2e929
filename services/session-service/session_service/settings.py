"""Settings from SESSION_SERVICE_* environment variables (plus AMQP_URL, MONGO_URL)."""

from __future__ import annotations

from livechat_shared.runtime.settings import ServiceSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SESSION_SERVICE_", extra="ignore")

    http_port: int = Field(default=8003, ge=1, le=65535)
