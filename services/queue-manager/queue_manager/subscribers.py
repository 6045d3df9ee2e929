"""The queue manager's consumer: its input queue → RoutingService.handle_batch, in delivery order."""

from __future__ import annotations

from livechat_shared.runtime.broker import Bus
from livechat_shared.runtime.consumer import InputConsumer, subscribe
from livechat_shared.runtime.metrics import ServiceMetrics
from livechat_shared.runtime.settings import ServiceSettings

from queue_manager.handlers import RoutingService


def build_consumer(
    bus: Bus, metrics: ServiceMetrics, service: RoutingService, settings: ServiceSettings
) -> InputConsumer:
    return subscribe(bus, metrics, service.handle, settings, handle_batch=service.handle_batch)
