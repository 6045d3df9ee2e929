"""Settings every service reads from the environment (each service adds its own prefix)."""

from __future__ import annotations

import logging

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_INTERNAL_TOKEN = "dev-internal-token-change-me"


class ServiceSettings(BaseSettings):
    """Common settings; a service subclasses it with `env_prefix` set to e.g. `QUEUE_MANAGER_`.

    The broker and store addresses are shared by all services and read without a prefix.
    """

    model_config = SettingsConfigDict(extra="ignore", validate_default=True)

    amqp_url: str = Field(
        default="amqp://guest:guest@127.0.0.1:5672/",
        validation_alias="AMQP_URL",
        description="RabbitMQ address.",
    )
    mongo_url: str | None = Field(
        default=None,
        validation_alias="MONGO_URL",
        description="MongoDB address; unset means the embedded store (development only).",
    )
    mongo_database: str = Field(default="livechat", validation_alias="MONGO_DATABASE")
    internal_api_token: str = Field(
        default=DEV_INTERNAL_TOKEN,
        min_length=16,
        validation_alias="INTERNAL_API_TOKEN",
        description="Shared secret on service-to-service HTTP calls (X-Internal-Token).",
    )
    log_level: str = Field(default="INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR)$")
    prefetch: int = Field(
        default=128,
        ge=1,
        le=10_000,
        description="Unacked messages in flight: twice batch_max, so the broker refills the "
        "inbox while a batch is handled.",
    )
    batch_max: int = Field(
        default=64,
        ge=1,
        le=10_000,
        description="Most deliveries handled as one batch (one store write, one wait for "
        "confirms, one multiple-ack).",
    )


def warn_about_development_secrets(settings: ServiceSettings, log: logging.Logger) -> None:
    if settings.internal_api_token == DEV_INTERNAL_TOKEN:
        log.warning("INTERNAL_API_TOKEN is the development default: set your own")
