"""How big each measurement is: the full run (about 5 minutes) and `--tiny` (about 30 s)."""

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
    arrival_seconds: float
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
    memory_visitors: int = 100_000
    """The RSS target's queue size: measured if reached within the cap, else extrapolated."""
    max_chats: int = 50


FULL = Sizes(
    name="full",
    floor_latency_messages=2_500,
    floor_latency_rate=500.0,
    floor_throughput_messages=10_000,
    arrival_rates=(100.0, 500.0),
    arrival_seconds=5.0,
    offer_wait_seconds=40.0,
    routing_visitors=3_000,
    scaling_small=100,
    scaling_large=100_000,
    scaling_repeats=3_000,
    summary_rate=1_000.0,
    summary_seconds=5.0,
    memory_wait_seconds=35.0,
)

TINY = Sizes(
    name="tiny",
    floor_latency_messages=300,
    floor_latency_rate=500.0,
    floor_throughput_messages=2_000,
    arrival_rates=(100.0, 500.0),
    arrival_seconds=0.4,
    offer_wait_seconds=8.0,
    routing_visitors=300,
    scaling_small=100,
    scaling_large=5_000,
    scaling_repeats=300,
    summary_rate=1_000.0,
    summary_seconds=0.3,
    memory_wait_seconds=3.0,
)
