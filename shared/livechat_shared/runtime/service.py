"""The one builder every service's main.py uses: logging, metrics, broker and bus named after the
service's queues, then the app that consumes. Each main.py passes only what differs."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from faststream.rabbit import RabbitBroker

from livechat_shared.contracts.topology import ServiceQueues
from livechat_shared.runtime.app import Hook, ReadinessCheck, create_service_app
from livechat_shared.runtime.broker import Bus, build_broker
from livechat_shared.runtime.consumer import InputConsumer
from livechat_shared.runtime.logging import configure_logging
from livechat_shared.runtime.metrics import ServiceMetrics
from livechat_shared.runtime.mongo import open_database
from livechat_shared.runtime.settings import ServiceSettings, warn_about_development_secrets

log = logging.getLogger(__name__)


async def _nothing() -> None:
    return None


@dataclass(frozen=True)
class ServiceBase:
    """What every service has before its own parts: built by `service_base`, nothing connected."""

    queues: ServiceQueues
    metrics: ServiceMetrics
    broker: RabbitBroker
    bus: Bus

    @property
    def name(self) -> str:
        return self.queues.service

    def app(
        self,
        consumer: InputConsumer,
        *,
        description: str,
        before_consuming: Hook = _nothing,
        after_stopping: Hook = _nothing,
        ready_when: Sequence[ReadinessCheck] = (),
        readiness_detail: Callable[[], Mapping[str, str]] = dict,
    ) -> FastAPI:
        return create_service_app(
            title=self.name,
            description=description,
            broker=self.broker,
            bus=self.bus,
            consumer=consumer,
            metrics=self.metrics,
            before_consuming=before_consuming,
            after_stopping=after_stopping,
            ready_when=ready_when,
            readiness_detail=readiness_detail,
        )


def service_base(
    queues: ServiceQueues, settings: ServiceSettings, *, answers_callers: bool = False
) -> ServiceBase:
    """Logging, metrics, broker and bus for the service that owns `queues` (its name spelled
    once, in the contracts). `answers_callers`: publishing refuses what no queue receives."""
    configure_logging(queues.service, settings.log_level)
    warn_about_development_secrets(settings, log)
    metrics = ServiceMetrics(queues.service)
    broker = build_broker(settings.amqp_url, settings.prefetch, metrics.registry, queues.service)
    bus = Bus(
        broker,
        queues,
        answers_callers=answers_callers,
        metrics=metrics,
        partitions=settings.partitions,
    )
    return ServiceBase(queues, metrics, broker, bus)


def mongo_if_set(
    settings: ServiceSettings, *, kept: str, path: Path, embedded: str = "embedded store"
) -> tuple[Any, Callable[[], Awaitable[None]]] | None:
    """The MongoDB database and its closer when MONGO_URL is set; else None, and a warning that
    `kept` (what the store holds) lives in the embedded store at `path` (one machine: one
    process, or the service's partitioned replicas there)."""
    if settings.mongo_url:
        return open_database(settings)
    log.warning(
        f"MONGO_URL is not set: {kept} kept in the {embedded} "
        "(one machine only: one process, or the service's partitioned replicas there)",
        extra={"path": str(path)},
    )
    return None
