"""The session service's consumer: its input queue → SessionService.handle."""

from __future__ import annotations

from faststream.rabbit import RabbitRouter
from livechat_shared.runtime.broker import Bus
from livechat_shared.runtime.consumer import subscribe
from livechat_shared.runtime.metrics import ServiceMetrics

from session_service.handlers import SessionService


def build_router(bus: Bus, metrics: ServiceMetrics, service: SessionService) -> RabbitRouter:
    router = RabbitRouter()
    subscribe(router, bus, metrics, service.handle)
    return router
