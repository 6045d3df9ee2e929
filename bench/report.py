"""The figures, their ratio to the floor, the targets, and the JSON and Markdown written out.

Every figure is a number with a unit, or None with the reason it is not available; latencies
are compared with the raw two-hop p99 and throughputs with the raw throughput.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

TWO_HOP_P99 = "floor_two_hop_p99_ms"
RAW_THROUGHPUT = "floor_throughput_msgs_per_s"


@dataclass
class Figure:
    id: str
    label: str
    unit: str
    value: float | None
    reason: str | None = None
    floor: str | None = None
    ratio_to_floor: float | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class Target:
    id: str
    statement: str
    figure: str
    limit: float | None
    value: float | None
    holds: bool | None
    reason: str | None = None


def _dig(raw: dict[str, Any], *path: str) -> Any:
    node: Any = raw
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def _why(raw: dict[str, Any], phase: str, default: str) -> str:
    error = _dig(raw, phase, "error")
    return f"{phase} failed: {error}" if error else default


class _Figures:
    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        self.all: dict[str, Figure] = {}

    def add(
        self,
        id: str,
        label: str,
        unit: str,
        phase: str,
        path: tuple[str, ...],
        floor: str | None = None,
        scale: float = 1.0,
        notes: list[str] | None = None,
    ) -> Figure:
        value = _dig(self.raw, phase, *path)
        if isinstance(value, int | float) and value == value:  # a number, and not NaN
            figure = Figure(id, label, unit, round(float(value) * scale, 3), floor=floor)
        else:
            reason = _why(self.raw, phase, f"{phase} reported no {'.'.join(path)}")
            figure = Figure(id, label, unit, None, reason=reason, floor=floor)
        figure.notes = notes or []
        self.all[id] = figure
        return figure

    def unavailable(self, id: str, label: str, unit: str, reason: str) -> None:
        self.all[id] = Figure(id, label, unit, None, reason=reason)

    def ratios(self) -> None:
        for figure in self.all.values():
            base = self.all.get(figure.floor) if figure.floor else None
            if figure.value is not None and base is not None and base.value:
                figure.ratio_to_floor = round(figure.value / base.value, 3)


def figures(raw: dict[str, Any]) -> list[Figure]:
    f = _Figures(raw)
    for hops in ("one", "two"):
        for q in ("p50", "p99"):
            f.add(
                f"floor_{hops}_hop_{q}_ms",
                f"raw broker, {hops} hop{'s' if hops == 'two' else ''}, {q}",
                "ms",
                "floor",
                (f"{hops}_hop", q),
                floor=TWO_HOP_P99,
            )
    f.add(
        RAW_THROUGHPUT,
        "raw broker, publish+consume with confirms",
        "msgs/s",
        "floor",
        ("throughput", "msgs_per_s"),
        floor=RAW_THROUGHPUT,
    )
    for rate in ("100", "500"):
        phase = _dig(raw, "assignment", rate) or {}
        notes = []
        http = phase.get("http_response_ms")
        if http:
            notes.append(
                f"gateway answered the POST in p50 {http['p50']:.0f} / p99 {http['p99']:.0f} ms"
            )
        if cpu := phase.get("cpu_seconds"):
            used = ", ".join(f"{k} {v:.1f}" for k, v in cpu.items())
            notes.append(f"CPU s over {phase.get('timed_wall_s', 0):.1f} s: {used}")
        if phase.get("offers_missing"):
            notes.append(
                f"{phase['offers_missing']} of {phase['visitors']} offers had not arrived "
                f"{phase['offer_wait_s']} s after the last request: counted as lower bounds"
            )
        for q in ("p50", "p99"):
            f.add(
                f"assignment_{q}_ms_at_{rate}_per_s",
                f"assignment latency at {rate} visitors/s, {q}",
                "ms",
                "assignment",
                (rate, q),
                floor=TWO_HOP_P99,
                notes=notes if q == "p99" else [],
            )
    routed = raw.get("routing") or {}
    f.add(
        "routing_decisions_per_s",
        "routing throughput (queue + offer decisions)",
        "decisions/s",
        "routing",
        ("decisions_per_s",),
        floor=RAW_THROUGHPUT,
        notes=[
            f"{routed['visitors']:,} visitors, {routed['operators']} operators; queue manager "
            f"on CPU {routed['queue_manager_cpu_share']:.0%} of the drain"
        ]
        if routed.get("queue_manager_cpu_share") is not None
        else [],
    )
    small = _dig(raw, "domain", "small")
    large = _dig(raw, "domain", "large")
    for kind, what in (("arrival", "arrival"), ("chat_end", "chat end + offer")):
        for size, label in ((small, "small"), (large, "large")):
            f.add(
                f"decision_{kind}_us_{label}_queue",
                f"one {what} decision, {size:,} waiting (median)" if size else what,
                "us",
                "domain",
                ("decisions", str(size), kind, "median"),
                scale=0.001,
            )
        a, b = f.all[f"decision_{kind}_us_small_queue"], f.all[f"decision_{kind}_us_large_queue"]
        if a.value and b.value is not None:
            f.all[f"decision_{kind}_cost_ratio"] = Figure(
                f"decision_{kind}_cost_ratio",
                f"{what} decision cost, {large:,} vs {small:,} waiting",
                "x",
                round(b.value / a.value, 3),
            )
        else:
            f.unavailable(
                f"decision_{kind}_cost_ratio",
                f"{what} decision cost ratio",
                "x",
                a.reason or b.reason or "no decision timings",
            )
    summary = raw.get("summary") or {}
    if summary.get("available"):
        notes = []
        if not summary.get("all_applied"):
            notes.append(
                f"only {summary.get('events_applied')} of {summary.get('events')} events applied "
                "when the bench stopped waiting: the p99 is a lower bound"
            )
        f.add(
            "summary_lag_p99_ms",
            f"event to Communication Summary lag at {summary.get('rate_per_s'):.0f} events/s, p99",
            "ms",
            "summary",
            ("p99_ms",),
            floor=TWO_HOP_P99,
            notes=notes,
        )
    else:
        f.unavailable(
            "summary_lag_p99_ms",
            "event to Communication Summary lag, p99",
            "ms",
            _why(raw, "summary", f"not available: {summary.get('reason', 'not measured')}"),
        )
    delta = _dig(raw, "domain", "rss_after_bytes")
    before = _dig(raw, "domain", "rss_before_bytes")
    if isinstance(delta, int) and isinstance(before, int):
        f.all["domain_state_mb"] = Figure(
            "domain_state_mb",
            f"domain state, {large:,} waiting (RSS growth, fresh interpreter)",
            "MB",
            round((delta - before) / 2**20, 1),
        )
        f.all["domain_process_rss_mb"] = Figure(
            "domain_process_rss_mb",
            f"domain-only process RSS, {large:,} waiting",
            "MB",
            round(delta / 2**20, 1),
        )
    else:
        for id in ("domain_state_mb", "domain_process_rss_mb"):
            f.unavailable(id, id.replace("_", " "), "MB", _why(raw, "domain", "not measured"))
    memory = raw.get("memory") or {}
    f.add(
        "queue_manager_rss_mb_reached",
        f"queue-manager process RSS, {memory.get('visitors_waiting_reached', 0):,} waiting "
        "(fed through the broker)",
        "MB",
        "memory",
        ("rss_reached_mb",),
    )
    if per_visitor := memory.get("bytes_per_waiting_visitor"):
        f.all["queue_manager_rss_mb_reached"].notes.append(
            f"{per_visitor:,} bytes per waiting visitor; {memory.get('decisions_per_s')} "
            "queue-only decisions/s"
        )
    target_count = memory.get("visitors_target", 0)
    f.add(
        "queue_manager_rss_mb_at_target",
        f"queue-manager process RSS, {target_count:,} waiting ({memory.get('rss_at_target_is')})",
        "MB",
        "memory",
        ("rss_at_target_mb",),
    )
    f.ratios()
    return list(f.all.values())


def targets(found: list[Figure]) -> list[Target]:
    by_id = {f.id: f for f in found}

    def value(id: str) -> float | None:
        figure = by_id.get(id)
        return figure.value if figure else None

    def check(
        id: str,
        statement: str,
        figure: str,
        limit: float | None,
        actual: float | None,
        at_most: bool,
    ) -> Target:
        if actual is None or limit is None:
            reason = by_id[figure].reason if figure in by_id else None
            return Target(id, statement, figure, limit, actual, None, reason or "no floor")
        holds = actual <= limit if at_most else actual >= limit
        return Target(id, statement, figure, round(limit, 3), round(actual, 3), holds)

    two_hop = value(TWO_HOP_P99)
    raw = value(RAW_THROUGHPUT)
    assignment = value("assignment_p99_ms_at_500_per_s")
    routing = value("routing_decisions_per_s")
    out = [
        check(
            "assignment_p99_at_500",
            "p99 assignment latency at 500 visitors/s <= 3x the raw two-hop p99",
            "assignment_p99_ms_at_500_per_s",
            3 * two_hop if two_hop else None,
            assignment,
            at_most=True,
        ),
        check(
            "routing_throughput",
            "routing throughput >= 50% of the raw throughput",
            "routing_decisions_per_s",
            0.5 * raw if raw else None,
            routing,
            at_most=False,
        ),
    ]
    for kind in ("arrival", "chat_end"):
        out.append(
            check(
                f"decision_{kind}_scaling",
                f"{kind.replace('_', ' ')} decision cost at the large queue <= 1.5x the small",
                f"decision_{kind}_cost_ratio",
                1.5,
                value(f"decision_{kind}_cost_ratio"),
                at_most=True,
            )
        )
    out.append(
        check(
            "summary_lag",
            "summary lag p99 <= 50 ms",
            "summary_lag_p99_ms",
            50.0,
            value("summary_lag_p99_ms"),
            at_most=True,
        )
    )
    out.append(
        check(
            "queue_manager_rss",
            "queue-manager RSS <= 200 MB with 100,000 waiting",
            "queue_manager_rss_mb_at_target",
            200.0,
            value("queue_manager_rss_mb_at_target"),
            at_most=True,
        )
    )
    return out


_FLOOR_NAMES = {TWO_HOP_P99: "two-hop p99", RAW_THROUGHPUT: "raw throughput"}


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.3g}"
    return f"{text} {unit}"


def markdown(meta: dict[str, Any], found: list[Figure], checked: list[Target]) -> str:
    lines = [
        f"# Bench results ({meta['mode']}, {meta['started_at']})",
        "",
        f"{meta['duration_s']:.0f} s on {meta['cpu_count']} cores; load average at start "
        f"{meta['load_average_start']}, at end {meta['load_average_end']}.",
        "",
        "| figure | value | ratio to floor | notes |",
        "|---|---|---|---|",
    ]
    for f in found:
        ratio = ""
        if f.ratio_to_floor is not None and f.floor != f.id:
            ratio = f"{f.ratio_to_floor:.3g}x {_FLOOR_NAMES.get(f.floor or '', f.floor)}"
        notes = "; ".join(([f.reason] if f.reason else []) + f.notes)
        lines.append(f"| {f.label} | {_number(f.value, f.unit)} | {ratio} | {notes} |")
    lines += ["", "| target | limit | value | holds |", "|---|---|---|---|"]
    for t in checked:
        unit = next((f.unit for f in found if f.id == t.figure), "")
        holds = {True: "yes", False: "**no**", None: f"n/a ({t.reason})"}[t.holds]
        lines.append(
            f"| {t.statement} | {_number(t.limit, unit)} | {_number(t.value, unit)} | {holds} |"
        )
    return "\n".join(lines) + "\n"


def _finite(node: Any) -> Any:
    """Strict JSON: a NaN or infinity (an empty measurement) becomes null."""
    if isinstance(node, float) and not math.isfinite(node):
        return None
    if isinstance(node, dict):
        return {k: _finite(v) for k, v in node.items()}
    if isinstance(node, list | tuple):
        return [_finite(v) for v in node]
    return node


def write(out: Path, stamp: str, meta: dict[str, Any], raw: dict[str, Any]) -> tuple[Path, Path]:
    found = figures(raw)
    checked = targets(found)
    document = {
        "meta": meta,
        "figures": [asdict(f) for f in found],
        "targets": [asdict(t) for t in checked],
        "raw": raw,
    }
    text = json.dumps(_finite(document), indent=2, default=str, allow_nan=False) + "\n"
    page = markdown(meta, found, checked)
    out.mkdir(parents=True, exist_ok=True)
    for name in ("latest", stamp):
        (out / f"{name}.json").write_text(text)
        (out / f"{name}.md").write_text(page)
    return out / "latest.json", out / "latest.md"
