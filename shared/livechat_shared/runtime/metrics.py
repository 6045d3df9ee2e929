"""Metrics every service exposes, on a registry of its own (one per app, never the global one)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from livechat_shared.contracts.partitions import partition_of


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
            "(sent back or rejected) or dead_lettered (unreadable, or published for another "
            "PARTITIONS).",
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
            "Messages this service moved to its dead-letter queue, by reason: invalid "
            "(unreadable, or a type it does not handle) or partition_mismatch (published for "
            "another PARTITIONS).",
            ["reason"],
            registry=self.registry,
        )


class SiteGauges:
    """Per-site gauges a partitioned replica recounts from the store when it changes a site.

    Another replica writes the sites of the partitions this one does not consume (and takes
    over ours when we lose the broker or hand one back): a series this replica no longer
    updates would stay at its last count for ever, so it is removed when the partition goes
    (`partition_released`, `consumer_lost`, the bus's hooks), and comes back with the next
    change this replica counts. Every replica counts from the same store, so the series of a
    site are equal wherever they are: aggregate them with `max`, not `sum`.
    """

    def __init__(self, gauges: Iterable[Gauge], partitions: int, owned: Iterable[int]) -> None:
        self.gauges = tuple(gauges)
        self.partitions = partitions
        self.owned = frozenset(owned)

    async def partition_released(self, partition: int) -> None:
        self._forget(lambda site: partition_of(site, self.partitions) == partition)

    async def consumer_lost(self) -> None:
        self._forget(lambda site: partition_of(site, self.partitions) not in self.owned)

    def _forget(self, gone: Callable[[str], bool]) -> None:
        if self.partitions == 1:
            return  # one partition: whoever consumes it counts every site
        for gauge in self.gauges:
            for metric in gauge.collect():
                for sample in metric.samples:
                    if gone(sample.labels["site"]):
                        with contextlib.suppress(KeyError):  # removed by an earlier sample
                            gauge.remove(*sample.labels.values())
