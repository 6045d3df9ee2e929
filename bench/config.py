"""How big each measurement is: the full run (about 10 minutes) and `--tiny` (about a minute)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sizes:
    name: str
    floor_latency_messages: int
    """Messages per latency measurement of the raw broker (one hop, two hops)."""
    floor_latency_rate: float
    """Open-loop rate of those messages: the assignment test's highest arrival rate."""
    floor_throughput_messages: int
    arrival_rates: tuple[float, ...]
    """Visitors per second at the gateway; each rate is its own site and timed phase."""
    arrival_seconds: tuple[float, ...]
    """How long each rate is sustained (the issue: 500 visitors/s for 20 s)."""
    offer_wait_seconds: float
    """How long to wait for the last offers after the last chat request."""
    routing_visitors: int
    """Backlog of VisitorWaiting the queue manager drains (each one queued and offered)."""
    scaling_small: int
    scaling_large: int
    scaling_repeats: int
    summary_rate: float
    summary_seconds: float
    memory_wait_seconds: float
    """Cap on feeding the real queue manager its waiting visitors through the broker."""
    memory_visitors: int
    """The RSS target's queue size: measured when reached within the cap (else the target is
    not judged; an extrapolation is shown for reference only)."""
    profile_visitors: int
    """Backlog the profiled queue manager drains (its saturation)."""
    profile_seconds: float
    """Chat requests at the highest arrival rate for the profiled gateway."""
    partition_visitors: int
    """Backlog of VisitorWaiting the queue-manager replicas drain, spread over the sites."""
    partition_sites: int
    """Sites of that backlog, as many in each partition."""
    partition_latency_seconds: float
    """Chat requests at `partition_latency_rate`, with one partition and with `partitions`."""
    partition_replicas: tuple[int, ...] = (1, 2, 3)
    """Queue-manager replica counts whose routing throughput is measured."""
    partitions: int = 12
    """PARTITIONS of the partitions phase: 1, 2 and 3 replicas own as many each."""
    partition_latency_rate: float = 100.0
    partition_latency_rounds: int = 4
    """Blocks of `partition_latency_seconds / rounds`, one partition count after the other."""
    max_chats: int = 50


FULL = Sizes(
    name="full",
    floor_latency_messages=2_500,
    floor_latency_rate=500.0,
    floor_throughput_messages=10_000,
    arrival_rates=(100.0, 500.0),
    arrival_seconds=(10.0, 20.0),
    offer_wait_seconds=40.0,
    routing_visitors=3_000,
    scaling_small=100,
    scaling_large=1_000_000,
    scaling_repeats=3_000,
    summary_rate=1_000.0,
    summary_seconds=5.0,
    memory_wait_seconds=420.0,
    memory_visitors=100_000,
    profile_visitors=3_000,
    profile_seconds=5.0,
    partition_visitors=6_000,
    partition_sites=48,
    partition_latency_seconds=10.0,
)

TINY = Sizes(
    name="tiny",
    floor_latency_messages=300,
    floor_latency_rate=500.0,
    floor_throughput_messages=2_000,
    arrival_rates=(100.0, 500.0),
    arrival_seconds=(0.4, 0.4),
    offer_wait_seconds=8.0,
    routing_visitors=300,
    scaling_small=100,
    scaling_large=5_000,
    scaling_repeats=300,
    summary_rate=1_000.0,
    summary_seconds=0.3,
    memory_wait_seconds=20.0,
    memory_visitors=1_000,
    profile_visitors=200,
    profile_seconds=0.4,
    partition_visitors=1_200,
    partition_sites=24,
    partition_latency_seconds=0.4,
)
