"""Projector metrics on the service registry: projection lag, events applied and duplicates."""

from __future__ import annotations

from livechat_shared.contracts import Event
from livechat_shared.runtime.metrics import ServiceMetrics
from prometheus_client import Counter, Histogram

_LAG_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)


class ProjectionMetrics:
    def __init__(self, metrics: ServiceMetrics) -> None:
        registry = metrics.registry
        self.lag = Histogram(
            "livechat_summary_projection_lag_seconds",
            "From an event occurring to its being applied to the Communication Summary.",
            buckets=_LAG_BUCKETS,
            registry=registry,
        )
        self.applied = Counter(
            "livechat_summary_events_applied",
            "Events applied to the Communication Summary (each event id once), by type.",
            ["type"],
            registry=registry,
        )
        self.duplicates = Counter(
            "livechat_summary_events_duplicate",
            "Redelivered or replayed events recognised by their id and skipped, by type.",
            ["type"],
            registry=registry,
        )
        self.conflicts = Counter(
            "livechat_summary_write_conflicts",
            "Summary writes retried because another writer changed the site first.",
            registry=registry,
        )

    def applied_event(self, event: Event, lag_seconds: float) -> None:
        self.applied.labels(event.type_name()).inc()
        self.lag.observe(max(0.0, lag_seconds))  # a sender's clock ahead of ours is no lag

    def duplicate_event(self, event: Event) -> None:
        self.duplicates.labels(event.type_name()).inc()

    def write_conflict(self) -> None:
        self.conflicts.inc()
