"""Settings from OFFLINE_MESSAGES_* environment variables (plus AMQP_URL, MONGO_URL)."""

from __future__ import annotations

from pathlib import Path

from livechat_shared.runtime.settings import ServiceSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict


class OfflineMessagesSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="OFFLINE_MESSAGES_", extra="ignore")

    store_path: Path = Field(
        default=Path(".data/offline-messages.sqlite3"),
        description="Embedded store file (SQLite), used only when MONGO_URL is unset.",
    )
