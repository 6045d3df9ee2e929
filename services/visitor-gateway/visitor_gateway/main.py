"""Wiring for visitor-gateway. Run with `uvicorn --factory visitor_gateway.main:create_app`."""

from __future__ import annotations

from fastapi import FastAPI
from faststream.rabbit import RabbitRouter
from livechat_shared.contracts.services import VISITOR_GATEWAY
from livechat_shared.runtime.app import create_service_app
from livechat_shared.runtime.broker import Bus, build_broker
from livechat_shared.runtime.consumer import subscribe
from livechat_shared.runtime.logging import configure_logging
from livechat_shared.runtime.metrics import ServiceMetrics

from visitor_gateway.handlers import Handler
from visitor_gateway.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging("visitor-gateway", settings.log_level)
    metrics = ServiceMetrics("visitor-gateway")
    broker = build_broker(settings.amqp_url, settings.prefetch, metrics.registry, "visitor-gateway")
    bus = Bus(broker, VISITOR_GATEWAY)
    handler = Handler()
    router = RabbitRouter()
    subscribe(router, bus, metrics, handler.handle)
    broker.include_router(router)
    app = create_service_app(title="visitor-gateway", broker=broker, bus=bus, metrics=metrics)
    app.state.handler = handler
    return app
