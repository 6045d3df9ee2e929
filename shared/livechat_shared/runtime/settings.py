"""Settings every service reads from the environment (each service adds its own prefix)."""

from __future__ import annotations

import logging

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from livechat_shared.contracts.partitions import MAX_PARTITIONS, owned_partitions

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
    batch_linger_ms: float = Field(
        default=0.0,
        ge=0,
        le=1000,
        description="After the first delivery, how long a batch may wait for more to arrive "
        "before it is handled (0: only what already waits). A service whose cost per batch "
        "does not shrink with the batch (the projector's one write per site) sets a few ms.",
    )
    partitions: int = Field(
        default=1,
        ge=1,
        le=MAX_PARTITIONS,
        validation_alias="PARTITIONS",
        description="Partitions of the stateful services' input, by site; the same for every "
        "service, fixed per deployment (changing it is an offline migration).",
    )
    replicas: int = Field(
        default=1, ge=1, le=MAX_PARTITIONS, description="Replicas of this service sharing them."
    )
    replica_ordinal: int = Field(
        default=0,
        ge=0,
        description="This replica's stable number, 0..replicas-1 (a StatefulSet's pod index).",
    )
    standby_delay_seconds: float = Field(
        default=3.0,
        ge=0,
        le=300,
        description="How long a replica consumes only its own partitions before it joins the "
        "others' as a standby (so that each replica gets its own first).",
    )

    rebalance_seconds: float = Field(
        default=30.0,
        ge=0,
        le=3600,
        description="How often a replica active on a partition not its own hands it back "
        "when another consumer waits on it (its owner, back); 0: never.",
    )

    @model_validator(mode="after")
    def _ordinal_in_range(self) -> ServiceSettings:
        owned_partitions(self.replica_ordinal, self.replicas, self.partitions)  # raises if not
        return self

    def owned_partitions(self) -> tuple[int, ...]:
        return owned_partitions(self.replica_ordinal, self.replicas, self.partitions)


def warn_about_development_secrets(settings: ServiceSettings, log: logging.Logger) -> None:
    if settings.internal_api_token == DEV_INTERNAL_TOKEN:
        log.warning("INTERNAL_API_TOKEN is the development default: set your own")
