"""The queue manager's consumer: its input queue → RoutingService.handle."""

from __future__ import annotations

from faststream.rabbit import RabbitRouter
from livechat_shared.runtime.broker import Bus
from livechat_shared.runtime.consumer import subscribe
from livechat_shared.runtime.metrics import ServiceMetrics

from queue_manager.handlers import RoutingService


def build_router(bus: Bus, metrics: ServiceMetrics, service: RoutingService) -> RabbitRouter:
    router = RabbitRouter()
    subscribe(router, bus, metrics, service.handle)
    return router
