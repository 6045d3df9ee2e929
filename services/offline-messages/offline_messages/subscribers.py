"""The offline-messages consumer: its input queue → OfflineMessages.handle, in delivery order."""

from __future__ import annotations

from livechat_shared.runtime.broker import Bus
from livechat_shared.runtime.consumer import InputConsumer, subscribe
from livechat_shared.runtime.metrics import ServiceMetrics
from livechat_shared.runtime.settings import ServiceSettings

from offline_messages.handlers import OfflineMessages


def build_consumer(
    bus: Bus, metrics: ServiceMetrics, service: OfflineMessages, settings: ServiceSettings
) -> InputConsumer:
    return subscribe(bus, metrics, service.handle, settings)
