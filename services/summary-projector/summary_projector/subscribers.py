"""The projector's consumer: its input queue (every domain event) → ProjectionService, in delivery
order; what waits together is projected as one batch (`handle_batch`: one store write)."""

from __future__ import annotations

from livechat_shared.runtime.broker import Bus
from livechat_shared.runtime.consumer import InputConsumer, subscribe
from livechat_shared.runtime.metrics import ServiceMetrics
from livechat_shared.runtime.settings import ServiceSettings

from summary_projector.handlers import ProjectionService


def build_consumer(
    bus: Bus, metrics: ServiceMetrics, projector: ProjectionService, settings: ServiceSettings
) -> InputConsumer:
    return subscribe(bus, metrics, projector.handle, settings, handle_batch=projector.handle_batch)
