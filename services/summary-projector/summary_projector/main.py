"""Wiring for summary-projector. Run with `uvicorn --factory summary_projector.main:create_app`."""

from __future__ import annotations

from fastapi import FastAPI
from faststream.rabbit import RabbitRouter
from livechat_shared.contracts.services import SUMMARY_PROJECTOR
from livechat_shared.runtime.app import create_service_app
from livechat_shared.runtime.broker import Bus, build_broker
from livechat_shared.runtime.consumer import subscribe
from livechat_shared.runtime.logging import configure_logging
from livechat_shared.runtime.metrics import ServiceMetrics

from summary_projector.handlers import Handler
from summary_projector.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging("summary-projector", settings.log_level)
    metrics = ServiceMetrics("summary-projector")
    broker = build_broker(
        settings.amqp_url, settings.prefetch, metrics.registry, "summary-projector"
    )
    bus = Bus(broker, SUMMARY_PROJECTOR)
    handler = Handler()
    router = RabbitRouter()
    subscribe(router, bus, metrics, handler.handle)
    broker.include_router(router)
    app = create_service_app(title="summary-projector", broker=broker, bus=bus, metrics=metrics)
    app.state.handler = handler
    return app
