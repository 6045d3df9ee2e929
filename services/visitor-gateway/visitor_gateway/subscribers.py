"""The gateway's consumer: this replica's own queue → GatewayService.handle, in delivery order."""

from __future__ import annotations

from livechat_shared.runtime.broker import Bus
from livechat_shared.runtime.consumer import InputConsumer, subscribe
from livechat_shared.runtime.metrics import ServiceMetrics
from livechat_shared.runtime.settings import ServiceSettings

from visitor_gateway.handlers import GatewayService


def build_consumer(
    bus: Bus, metrics: ServiceMetrics, service: GatewayService, settings: ServiceSettings
) -> InputConsumer:
    return subscribe(bus, metrics, service.handle, settings)
