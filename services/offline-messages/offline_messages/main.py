"""Wiring for offline-messages. Run with `uvicorn --factory offline_messages.main:create_app`."""

from __future__ import annotations

from fastapi import FastAPI
from faststream.rabbit import RabbitRouter
from livechat_shared.contracts.services import OFFLINE_MESSAGES
from livechat_shared.runtime.app import create_service_app
from livechat_shared.runtime.broker import Bus, build_broker
from livechat_shared.runtime.consumer import subscribe
from livechat_shared.runtime.logging import configure_logging
from livechat_shared.runtime.metrics import ServiceMetrics

from offline_messages.handlers import Handler
from offline_messages.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging("offline-messages", settings.log_level)
    metrics = ServiceMetrics("offline-messages")
    broker = build_broker(
        settings.amqp_url, settings.prefetch, metrics.registry, "offline-messages"
    )
    bus = Bus(broker, OFFLINE_MESSAGES)
    handler = Handler()
    router = RabbitRouter()
    subscribe(router, bus, metrics, handler.handle)
    broker.include_router(router)
    app = create_service_app(title="offline-messages", broker=broker, bus=bus, metrics=metrics)
    app.state.handler = handler
    return app
