"""Metrics every service exposes, on a registry of its own (one per app, never the global one)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class ServiceMetrics:
    def __init__(self, service: str) -> None:
        self.registry = CollectorRegistry()
        self.service = service
        self.handling_seconds = Histogram(
            "livechat_event_handling_seconds",
            "Time to handle one consumed message, by message type.",
            ["type"],
            registry=self.registry,
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
        )
        self.handling_failures = Counter(
            "livechat_event_handling_failures",
            "Consumed messages whose handler raised (they are retried, then dead-lettered).",
            ["type"],
            registry=self.registry,
        )
        self.consumed = Counter(
            "livechat_consumed_messages",
            "Messages taken from the service's input queue, by outcome: handled, failed "
            "(sent back or rejected) or dead_lettered (unreadable).",
            ["service", "outcome"],
            registry=self.registry,
        )
        self.batch_size = Histogram(
            "livechat_consumed_batch_size",
            "Deliveries the consumer took from its inbox at once (handled as one batch).",
            ["service"],
            registry=self.registry,
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
        )
        self.batch_fallbacks = Counter(
            "livechat_batch_fallbacks",
            "Batches whose batch handler raised, then handled one message at a time.",
            ["service"],
            registry=self.registry,
        )
        self.published = Counter(
            "livechat_published_messages",
            "Messages the service published (events, commands, timers), by outcome: "
            "confirmed, not_routed (refused: no queue receives it) or failed (broker away).",
            ["service", "outcome"],
            registry=self.registry,
        )
        self.consumer_active = Gauge(
            "livechat_consumer_active",
            "1 on the replica its input queue delivers to (with single active consumer, the one "
            "that has received a delivery since it subscribed; a replica's own queue: once it "
            "consumes), 0 on a standby or while disconnected.",
            ["service"],
            registry=self.registry,
        )
        self.dead_lettered = Counter(
            "livechat_dead_lettered_messages",
            "Messages this service moved to its dead-letter queue, by reason.",
            ["reason"],
            registry=self.registry,
        )
