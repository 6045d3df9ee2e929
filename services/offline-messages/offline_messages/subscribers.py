"""The offline-messages consumer: its input queue → OfflineMessageService.handle, in delivery order."""

from __future__ import annotations

from livechat_shared.runtime.broker import Bus
from livechat_shared.runtime.consumer import InputConsumer, subscribe
from livechat_shared.runtime.metrics import ServiceMetrics
from livechat_shared.runtime.settings import ServiceSettings

from offline_messages.handlers import OfflineMessageService


def build_consumer(
    bus: Bus, metrics: ServiceMetrics, service: OfflineMessageService, settings: ServiceSettings
) -> InputConsumer:
    return subscribe(bus, metrics, service.handle, settings)
