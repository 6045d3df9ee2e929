"""Message Queue metrics: outcomes counted as they happen, the waiting gauge recounted from the store."""

from __future__ import annotations

from livechat_shared.runtime.metrics import ServiceMetrics
from prometheus_client import Counter, Gauge

from offline_messages.ports import OfflineMessageStore

_CHANGES_WAITING = frozenset({"left", "taken"})


class MessageQueueMetrics:
    """The service's Observer. The gauge is recounted from the store rather than kept by
    increments, so it stays true across restarts and after a standby replica takes over."""

    def __init__(self, metrics: ServiceMetrics, store: OfflineMessageStore) -> None:
        self.store = store
        self.waiting = Gauge(
            "livechat_offline_messages_waiting",
            "Offline messages waiting in the Message Queue, by site.",
            ["site"],
            registry=metrics.registry,
        )
        self.outcomes = Counter(
            "livechat_offline_message_outcomes",
            "Offline messages left, and Next message / reply / close commands by outcome "
            "(taken, empty, replied, closed, rejected).",
            ["outcome"],
            registry=metrics.registry,
        )

    async def load(self) -> None:
        """Count every site's waiting messages (at start-up)."""
        for site, waiting in (await self.store.count_waiting()).items():
            self.waiting.labels(site).set(waiting)

    async def __call__(self, site_id: str, outcome: str) -> None:
        self.outcomes.labels(outcome).inc()
        if outcome in _CHANGES_WAITING:
            counts = await self.store.count_waiting(site_id)
            self.waiting.labels(site_id).set(counts.get(site_id, 0))
