"""Settings from SUMMARY_PROJECTOR_* environment variables (plus AMQP_URL, MONGO_URL)."""

from __future__ import annotations

from pathlib import Path

from livechat_shared.runtime.settings import ServiceSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict


class SummaryProjectorSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="SUMMARY_PROJECTOR_", extra="ignore", validate_by_name=True
    )

    batch_linger_ms: float = Field(
        default=10.0,
        ge=0,
        le=1000,
        description="How long a batch waits for more events after its first: each batch "
        "writes every site it changed whole, so at a low rate one event per batch would cost "
        "a whole site's write; 10 ms gathers them at the price of at most 10 ms of lag.",
    )
    store_path: Path = Field(
        default=Path(".data/summary-projector.sqlite3"),
        description="Embedded store file (SQLite: summaries and the event archive), used only "
        "when MONGO_URL is unset.",
    )
    stream_poll_seconds: float = Field(
        default=1.0,
        gt=0,
        le=60,
        description="Changes this replica saves are pushed to its open summary streams at once; "
        "a followed site with no push for this long is re-read from the store (once for all its "
        "streams), to show changes that another replica applied.",
    )
    stream_max_seconds: float = Field(
        default=300.0,
        gt=0,
        le=3600,
        description="An open summary stream ends after this long and the client reconnects; "
        "bounds how long a shutdown waits for open streams.",
    )
    archive_retention_seconds: int = Field(
        default=30 * 24 * 3600,
        ge=3600,
        description="Archived events older than this are dropped (a TTL index in MongoDB; the "
        "memory store prunes as it archives). A rebuild replays only what is kept.",
    )
