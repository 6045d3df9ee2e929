"""Session service settings, from SESSION_SERVICE_* variables (plus AMQP_URL, MONGO_URL, ...)."""

from __future__ import annotations

from pathlib import Path

from livechat_shared.runtime.settings import ServiceSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict


class SessionServiceSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SESSION_SERVICE_", extra="ignore")

    visitor_grace_seconds: float = Field(
        default=60.0,
        gt=0,
        le=86_400,
        description="A chat ends when its visitor stays disconnected this long.",
    )
    store_path: Path = Field(
        default=Path(".data/session-service.sqlite3"),
        description="Embedded store file (SQLite), used only when MONGO_URL is unset.",
    )
