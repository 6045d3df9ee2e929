"""The targets of issue 12, row for row, judged on one run's figures.

A target holds, fails, or is not judged (None) with the reason: a figure that is missing, or
the queue-manager RSS not measured at 100,000 waiting (an extrapolation is never judged).
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.figures import CPU_RATE, RAW_THROUGHPUT, TWO_HOP_P99, Figure, dig


@dataclass
class Target:
    id: str
    figure_label: str
    """The issue's words for the figure."""
    statement: str
    """The issue's words for the target."""
    figure: str
    unit: str
    limit: float | None
    value: float | None
    holds: bool | None
    reason: str | None = None


def targets(found: list[Figure], raw: dict[str, object]) -> list[Target]:
    by_id = {f.id: f for f in found}

    def value(id: str) -> float | None:
        figure = by_id.get(id)
        return figure.value if figure else None

    def check(
        id: str,
        label: str,
        statement: str,
        figure: str,
        limit: float | None,
        at_most: bool = True,
        also: tuple[bool, str] = (True, ""),
        size: tuple[bool, str] = (True, ""),
    ) -> Target:
        actual = value(figure)
        unit = by_id[figure].unit if figure in by_id else ""
        if not size[0]:
            return Target(id, label, statement, figure, unit, limit, actual, None, size[1])
        if actual is None or limit is None:
            reason = (by_id[figure].reason if figure in by_id else None) or "no floor"
            return Target(id, label, statement, figure, unit, limit, actual, None, reason)
        holds = actual <= limit if at_most else actual >= limit
        ok, why_not = also
        return Target(
            id,
            label,
            statement,
            figure,
            unit,
            round(limit, 3),
            round(actual, 3),
            holds and ok,
            None if ok else why_not,
        )

    two_hop = value(TWO_HOP_P99)
    raw_throughput = value(RAW_THROUGHPUT)
    at_500 = dig(raw, "assignment", "500") or {}
    missing = at_500.get("offers_missing", 0)
    limit_500 = 10 * two_hop if two_hop else None
    last_fifth = at_500.get("last_fifth_p50_ms")
    backlog = limit_500 is not None and last_fifth is not None and last_fifth > limit_500
    ratios = [
        v for k in ("arrival", "chat_end") if (v := value(f"decision_{k}_cost_ratio")) is not None
    ]
    worst = max(
        ("decision_arrival_cost_ratio", "decision_chat_end_cost_ratio"),
        key=lambda id: value(id) or 0.0,
    )
    waiting = dig(raw, "memory", "visitors_target") or 0
    large = dig(raw, "domain", "large") or 0
    sustained = (at_500.get("visitors") or 0) / 500
    smaller = "this run is smaller than the target's"
    return [
        check(
            "cpu_per_visitor",
            f"CPU per assigned visitor, all services together (at {CPU_RATE} visitors/s)",
            "<= 2 ms",
            f"cpu_ms_per_visitor_services_at_{CPU_RATE}",
            2.0,
        ),
        check(
            "routing_throughput",
            "routing throughput at saturation, as a ratio to raw publish+consume msgs/s",
            ">= 0.35x raw",
            "routing_decisions_per_s",
            0.35 * raw_throughput if raw_throughput else None,
            at_most=False,
        ),
        check(
            "assignment_p99_at_100",
            "assignment p99 at 100 visitors/s",
            "<= 3x floor",
            "assignment_p99_ms_at_100_per_s",
            3 * two_hop if two_hop else None,
        ),
        check(
            "assignment_p99_at_500",
            "assignment p99 at 500 visitors/s, sustained 20 s, every offer arrives",
            "<= 10x floor, no backlog",
            "assignment_p99_ms_at_500_per_s",
            limit_500,
            also=(
                not missing and not backlog,
                f"{missing} offers did not arrive" if missing else "the last fifth queued",
            ),
            size=(sustained >= 20, f"{smaller}: {sustained:.3g} s"),
        ),
        check(
            "summary_lag",
            "event -> Communication Summary lag p99 at 1,000 events/s",
            "<= 50 ms",
            "summary_lag_p99_ms",
            50.0,
        ),
        check(
            "queue_manager_rss",
            "queue-manager RSS with 100,000 waiting, fed through the broker (measured)",
            "<= 150 MB",
            "queue_manager_rss_mb_at_target",
            150.0,
            size=(waiting >= 100_000, f"{smaller}: {waiting:,} waiting"),
        ),
        check(
            "decision_scaling",
            "decision cost 1,000,000 vs 100 waiting (the worse of arrival and chat end)",
            "<= 1.5x",
            worst,
            1.5 if len(ratios) == 2 else None,
            size=(large >= 1_000_000, f"{smaller}: {large:,} waiting"),
        ),
    ]
