"""Wiring for session-service. Run with `uvicorn --factory session_service.main:create_app`."""

from __future__ import annotations

from fastapi import FastAPI
from faststream.rabbit import RabbitRouter
from livechat_shared.contracts.services import SESSION_SERVICE
from livechat_shared.runtime.app import create_service_app
from livechat_shared.runtime.broker import Bus, build_broker
from livechat_shared.runtime.consumer import subscribe
from livechat_shared.runtime.logging import configure_logging
from livechat_shared.runtime.metrics import ServiceMetrics

from session_service.handlers import Handler
from session_service.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging("session-service", settings.log_level)
    metrics = ServiceMetrics("session-service")
    broker = build_broker(settings.amqp_url, settings.prefetch, metrics.registry, "session-service")
    bus = Bus(broker, SESSION_SERVICE)
    handler = Handler()
    router = RabbitRouter()
    subscribe(router, bus, metrics, handler.handle)
    broker.include_router(router)
    app = create_service_app(title="session-service", broker=broker, bus=bus, metrics=metrics)
    app.state.handler = handler
    return app
