"""Queue manager settings, from QUEUE_MANAGER_* environment variables (plus AMQP_URL, MONGO_URL)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from livechat_shared.runtime.settings import ServiceSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict

from queue_manager.domain import RoutingPolicy


class QueueManagerSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="QUEUE_MANAGER_", extra="ignore")

    max_chats: int = Field(
        default=3, ge=1, le=50, description="Site-wide maximum chats per operator."
    )
    max_calls: int = Field(default=1, ge=1, le=10, description="Maximum calls per operator.")
    offer_timeout_seconds: float = Field(default=30.0, gt=0, le=3600)
    invitation_timeout_seconds: float = Field(default=60.0, gt=0, le=3600)
    operator_disconnect_grace_seconds: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="An online operator without a console socket this long is made away.",
    )
    operator_connection_lease_seconds: float = Field(
        default=60.0,
        gt=0,
        le=3600,
        description="How long a gateway replica's connection claim counts unless renewed.",
    )
    calls_block_chats: bool = Field(
        default=False, description="An operator on a call gets no new chats."
    )
    journal_path: Path = Field(
        default=Path(".data/queue-manager-journal.jsonl"),
        description="Embedded journal file, used only when MONGO_URL is unset.",
    )
    journal_standby: bool = Field(
        default=True,
        description="When another process holds the embedded journal: wait as a standby "
        "until it is free (true), or refuse to start (false).",
    )

    def policy(self) -> RoutingPolicy:
        return RoutingPolicy(
            max_chats=self.max_chats,
            max_calls=self.max_calls,
            offer_timeout=timedelta(seconds=self.offer_timeout_seconds),
            invitation_timeout=timedelta(seconds=self.invitation_timeout_seconds),
            disconnect_grace=timedelta(seconds=self.operator_disconnect_grace_seconds),
            connection_lease=timedelta(seconds=self.operator_connection_lease_seconds),
            calls_block_chats=self.calls_block_chats,
        )
