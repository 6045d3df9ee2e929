"""The session service's consumer: its input queue → SessionService, in delivery order; what waits
together is decided as one batch (`handle_batch`: one store write, confirms awaited together)."""

from __future__ import annotations

from livechat_shared.runtime.broker import Bus
from livechat_shared.runtime.consumer import InputConsumer, subscribe
from livechat_shared.runtime.metrics import ServiceMetrics
from livechat_shared.runtime.settings import ServiceSettings

from session_service.handlers import SessionService


def build_consumer(
    bus: Bus, metrics: ServiceMetrics, service: SessionService, settings: ServiceSettings
) -> InputConsumer:
    return subscribe(bus, metrics, service.handle, settings, handle_batch=service.handle_batch)
