"""Percentiles of samples, and reading counters, gauges and histograms from a /metrics page."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence

from prometheus_client.parser import text_string_to_metric_families


def percentile(samples: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), interpolated between the nearest ranks."""
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(samples)
    rank = (len(ordered) - 1) * q / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary_ms(seconds: Sequence[float]) -> dict[str, float]:
    """p50, p90, p99 and max of durations in seconds, in milliseconds."""
    return {
        "p50": round(percentile(seconds, 50) * 1000, 3),
        "p90": round(percentile(seconds, 90) * 1000, 3),
        "p99": round(percentile(seconds, 99) * 1000, 3),
        "max": round(max(seconds) * 1000, 3),
    }


def sample_total(text: str, sample_name: str, **labels: str) -> float:
    """Sum of the samples called `sample_name` whose labels include `labels` (0 if none)."""
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == sample_name and all(
                sample.labels.get(k) == v for k, v in labels.items()
            ):
                total += sample.value
    return total


def has_metric(text: str, family_name: str) -> bool:
    return any(f.name == family_name for f in text_string_to_metric_families(text))


Buckets = dict[float, float]
"""A histogram's cumulative counts by upper bound (`le`), summed over its label sets."""


def histogram_buckets(text: str, family_name: str) -> Buckets | None:
    """The histogram's buckets, or None when the page has no such histogram."""
    buckets: Buckets = defaultdict(float)
    found = False
    for family in text_string_to_metric_families(text):
        if family.name != family_name:
            continue
        found = True
        for sample in family.samples:
            if sample.name == f"{family_name}_bucket":
                buckets[float(sample.labels["le"])] += sample.value
    return dict(buckets) if found else None


def bucket_delta(after: Buckets, before: Buckets | None) -> Buckets:
    """What was observed between two scrapes."""
    return {le: count - (before or {}).get(le, 0.0) for le, count in after.items()}


def bucket_quantile(buckets: Buckets, q: float) -> float | None:
    """The q-quantile (0-1) as Prometheus' histogram_quantile computes it: linear within the
    bucket, and the last finite bound when it falls in +Inf. None when nothing was observed."""
    bounds = sorted(buckets)
    if not bounds or buckets[bounds[-1]] <= 0:
        return None
    target = q * buckets[bounds[-1]]
    previous_bound, previous_count = 0.0, 0.0
    for bound in bounds:
        cumulative = buckets[bound]
        if cumulative >= target:
            if math.isinf(bound):
                return previous_bound
            width = cumulative - previous_count
            share = (target - previous_count) / width if width else 1.0
            return previous_bound + (bound - previous_bound) * share
        previous_bound, previous_count = bound, cumulative
    return previous_bound


def bucket_count(buckets: Buckets) -> float:
    return buckets.get(math.inf, 0.0)
