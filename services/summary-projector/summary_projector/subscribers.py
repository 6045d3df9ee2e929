"""The projector's consumer: its input queue (every domain event) → Projector.handle."""

from __future__ import annotations

from faststream.rabbit import RabbitRouter
from livechat_shared.runtime.broker import Bus
from livechat_shared.runtime.consumer import subscribe
from livechat_shared.runtime.metrics import ServiceMetrics

from summary_projector.handlers import Projector


def build_router(bus: Bus, metrics: ServiceMetrics, projector: Projector) -> RabbitRouter:
    router = RabbitRouter()
    subscribe(router, bus, metrics, projector.handle)
    return router
