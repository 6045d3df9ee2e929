"""The offline-messages consumer: its input queue → OfflineMessages.handle."""

from __future__ import annotations

from faststream.rabbit import RabbitRouter
from livechat_shared.runtime.broker import Bus
from livechat_shared.runtime.consumer import subscribe
from livechat_shared.runtime.metrics import ServiceMetrics

from offline_messages.handlers import OfflineMessages


def build_router(bus: Bus, metrics: ServiceMetrics, service: OfflineMessages) -> RabbitRouter:
    router = RabbitRouter()
    subscribe(router, bus, metrics, service.handle)
    return router
