"""The figures of a run, each a number with a unit or None with the reason it is missing.

Latencies are compared with the raw two-hop p99 and throughputs with the raw publish+consume
throughput — each the mean of the floor measured before and after the system figures (both
are figures too, and the run is *noisy* when they differ by more than NOISY).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

TWO_HOP_P99 = "floor_two_hop_p99_ms"
RAW_THROUGHPUT = "floor_throughput_msgs_per_s"
NOISY = 1.5
SERVICES = (
    "queue_manager",
    "gateway",
    "session_service",
    "offline_messages",
    "summary_projector",
)
"""The five services whose CPU per assigned visitor the CPU target adds up."""
CPU_RATE = "100"
"""The arrival rate whose CPU per visitor the target judges (steady, below saturation)."""
REPLICAS = ("1", "2", "3")
"""Queue-manager replica counts of the partitions phase (figures even when it did not run)."""
PARTITIONED = ("single_queue", "partitioned")
"""The partitions phase's two assignment latencies: PARTITIONS=1 and PARTITIONS=P."""


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


def dig(raw: dict[str, Any], *path: str) -> Any:
    node: Any = raw
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def _why(raw: dict[str, Any], phase: str, default: str) -> str:
    error = dig(raw, phase, "error")
    return f"{phase} failed: {error}" if error else default


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and value == value else None


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
        value = _number(dig(self.raw, phase, *path))
        if value is not None:
            figure = Figure(id, label, unit, round(value * scale, 3), floor=floor)
        else:
            reason = _why(self.raw, phase, f"{phase} reported no {'.'.join(path)}")
            figure = Figure(id, label, unit, None, reason=reason, floor=floor)
        figure.notes = notes or []
        self.all[id] = figure
        return figure

    def put(self, id: str, label: str, unit: str, value: float | None, reason: str) -> Figure:
        """A derived figure: `reason` says why when `value` is None."""
        figure = Figure(id, label, unit, None if value is None else round(value, 3))
        if value is None:
            figure.reason = reason
        self.all[id] = figure
        return figure

    def quotient(self, id: str, label: str, over: str, under: str, reason: str) -> Figure:
        """A derived figure: figure `over` divided by figure `under`."""
        a, b = self.value(over), self.value(under)
        return self.put(id, label, "x", a / b if b and a is not None else None, reason)

    def value(self, id: str) -> float | None:
        figure = self.all.get(id)
        return figure.value if figure else None

    def ratios(self) -> None:
        for figure in self.all.values():
            base = self.all.get(figure.floor) if figure.floor else None
            if figure.value is not None and base is not None and base.value:
                figure.ratio_to_floor = round(figure.value / base.value, 3)


def _floor(f: _Figures) -> None:
    for phase, when in (("floor", "before"), ("floor_after", "after")):
        for hops in ("one", "two"):
            for q in ("p50", "p99"):
                f.add(
                    f"floor_{hops}_hop_{q}_ms_{when}",
                    f"raw broker, {hops} hop{'s' if hops == 'two' else ''}, {q}, {when}",
                    "ms",
                    phase,
                    (f"{hops}_hop", q),
                )
        f.add(
            f"floor_throughput_msgs_per_s_{when}",
            f"raw broker, publish+consume with confirms, {when}",
            "msgs/s",
            phase,
            ("throughput", "msgs_per_s"),
        )
    for id, label, unit in (
        (TWO_HOP_P99, "raw two-hop p99", "ms"),
        (RAW_THROUGHPUT, "raw publish+consume throughput", "msgs/s"),
    ):
        found = [v for w in ("before", "after") if (v := f.value(f"{id}_{w}")) is not None]
        figure = f.put(
            id,
            f"{label}, the floor of this run (mean of before and after)",
            unit,
            sum(found) / len(found) if found else None,
            "the floor was not measured",
        )
        if len(found) == 2 and min(found) > 0:
            figure.notes.append(f"before and after differ {max(found) / min(found):.2f}x")


def floor_spread(found: list[Figure]) -> float | None:
    """How far apart the floor before and after are (the larger ratio of the two figures)."""
    by_id = {f.id: f.value for f in found}
    spreads = []
    for id in (TWO_HOP_P99, RAW_THROUGHPUT):
        before, after = by_id.get(f"{id}_before"), by_id.get(f"{id}_after")
        if before and after:
            spreads.append(max(before, after) / min(before, after))
    return round(max(spreads), 3) if spreads else None


def _assignment(f: _Figures) -> None:
    for rate in ("100", "500"):
        phase = dig(f.raw, "assignment", rate) or {}
        notes = []
        if http := phase.get("http_response_ms"):
            notes.append(
                f"gateway answered the POST in p50 {http['p50']:.0f} / p99 {http['p99']:.0f} ms"
            )
        if "first_fifth_p50_ms" in phase:
            notes.append(
                f"p50 of the first fifth {phase['first_fifth_p50_ms']:.0f} ms, of the last "
                f"fifth {phase['last_fifth_p50_ms']:.0f} ms"
            )
        if phase.get("offers_missing"):
            notes.append(
                f"{phase['offers_missing']} of {phase['visitors']} offers had not arrived "
                f"{phase['offer_wait_s']} s after the last request: counted as lower bounds"
            )
        for q in ("p50", "p99"):
            f.add(
                f"assignment_{q}_ms_at_{rate}_per_s",
                f"assignment latency at {rate} visitors/s sustained "
                f"{phase.get('visitors', 0) / float(rate):.3g} s, {q}",
                "ms",
                "assignment",
                (rate, q),
                floor=TWO_HOP_P99,
                notes=notes if q == "p99" else [],
            )
        _cpu(f, rate, phase)


def _cpu(f: _Figures, rate: str, phase: dict[str, Any]) -> None:
    """CPU ms per assigned visitor of each service, the five together, the bench client and
    the broker, and the broker's share of all of it."""
    cpu: dict[str, float] = phase.get("cpu_seconds") or {}
    assigned = phase.get("offers_arrived") or 0
    missing = _why(f.raw, "assignment", f"no CPU times or no offers at {rate}/s")

    def per_visitor(seconds: float | None) -> float | None:
        return seconds * 1000 / assigned if seconds is not None and assigned else None

    for name in (*SERVICES, "bench_client", "broker"):
        f.put(
            f"cpu_ms_per_visitor_{name}_at_{rate}",
            f"CPU per assigned visitor at {rate}/s, {name.replace('_', ' ')}",
            "ms",
            per_visitor(cpu.get(name)),
            missing if name != "broker" else "the broker's process was not found in /proc",
        )
    services = [cpu[s] for s in SERVICES if s in cpu]
    total = sum(services) if len(services) == len(SERVICES) else None
    figure = f.put(
        f"cpu_ms_per_visitor_services_at_{rate}",
        f"CPU per assigned visitor at {rate}/s, the five services together",
        "ms",
        per_visitor(total),
        missing,
    )
    accounted = (total or 0.0) + cpu.get("bench_client", 0.0) + cpu.get("broker", 0.0)
    share = cpu["broker"] / accounted if "broker" in cpu and accounted else None
    f.put(
        f"broker_cpu_share_at_{rate}",
        f"the broker's share of the CPU of services, client and broker at {rate}/s",
        "%",
        None if share is None else share * 100,
        "the broker's process was not found in /proc",
    )
    if "machine" in cpu and total is not None:
        rest = cpu["machine"] - accounted
        figure.notes.append(
            f"the machine was busy {cpu['machine']:.1f} CPU s over {phase.get('timed_wall_s', 0):.1f}"
            f" s, of which {max(0.0, rest):.1f} s not this run's processes (other users; the "
            "broker's CPU includes other vhosts' work)"
        )


def _routing(f: _Figures) -> None:
    routed = f.raw.get("routing") or {}
    notes = []
    if routed.get("queue_manager_cpu_share") is not None:
        notes.append(
            f"{routed['visitors']:,} visitors, {routed['operators']} operators; queue manager "
            f"on CPU {routed['queue_manager_cpu_share']:.0%} of the drain"
        )
    f.add(
        "routing_decisions_per_s",
        "routing throughput at saturation (queue + offer decisions)",
        "decisions/s",
        "routing",
        ("decisions_per_s",),
        floor=RAW_THROUGHPUT,
        notes=notes,
    )


def _partitions(f: _Figures) -> None:
    """Issue 15: routing throughput by queue-manager replica count, and the assignment latency
    with partitions against a single queue."""
    phase = f.raw.get("partitions") or {}
    count = phase.get("partitions", "P")
    replicas = [*REPLICAS, *(n for n in phase.get("throughput", {}) if n not in REPLICAS)]
    for n in replicas:
        drained = dig(phase, "throughput", n) or {}
        path = ("throughput", n)
        notes = [drained["reason"]] if drained.get("reason") else []
        if shares := drained.get("busy_share_by_replica"):
            notes.append(
                f"{drained.get('visitors', 0):,} visitors over {drained.get('sites')} sites; "
                f"decisions by replica {drained.get('decisions_by_replica')}; busy share "
                f"{' / '.join(f'{x:.0%}' for x in shares)}; other processes used "
                f"{drained.get('other_processes_cores', 0):.2f} cores meanwhile"
            )
        what = f"{n} queue-manager replica{'s' if n != '1' else ''}, {count} partitions"
        f.add(
            f"partitions_decisions_per_s_{n}_replicas",
            f"routing throughput, {what}",
            "decisions/s",
            "partitions",
            (*path, "decisions_per_s"),
            floor=RAW_THROUGHPUT,
            notes=notes,
        )
        for who, label in (("queue_manager", "the queue managers"), ("broker", "the broker")):
            f.add(
                f"partitions_{who}_cpu_ms_per_decision_{n}_replicas",
                f"CPU per decision, {label}, {what}",
                "ms",
                "partitions",
                (*path, f"{who}_cpu_ms_per_decision"),
            )
        f.quotient(
            f"partitions_speedup_{n}_replicas",
            f"routing throughput, {what}, against one replica",
            f"partitions_decisions_per_s_{n}_replicas",
            "partitions_decisions_per_s_1_replicas",
            _why(f.raw, "partitions", "the phase reported no rate"),
        )
    for q in ("p50", "p99"):
        for key, setting in (("single_queue", "1"), ("partitioned", str(count))):
            f.add(
                f"partitions_assignment_{q}_ms_{key}",
                f"assignment latency at {phase.get('latency', {}).get('rate_per_s', 0):.0f} "
                f"visitors/s, PARTITIONS={setting}, {q}",
                "ms",
                "partitions",
                ("latency", setting, q),
                floor=TWO_HOP_P99,
            )
        single, partitioned = (
            f.value(f"partitions_assignment_{q}_ms_{key}") for key in PARTITIONED
        )
        f.put(
            f"partitions_added_{q}_ms",
            f"assignment latency added by partition routing, {q}",
            "ms",
            partitioned - single if single is not None and partitioned is not None else None,
            _why(f.raw, "partitions", "the phase reported no latency"),
        )


def _domain(f: _Figures) -> None:
    small = dig(f.raw, "domain", "small") or 0
    large = dig(f.raw, "domain", "large") or 0
    for kind, what in (("arrival", "arrival"), ("chat_end", "chat end + offer")):
        for size, label in ((small, "small"), (large, "large")):
            f.add(
                f"decision_{kind}_us_{label}_queue",
                f"one {what} decision, {size:,} waiting (median)",
                "us",
                "domain",
                ("decisions", str(size), kind, "median"),
                scale=0.001,
            )
        f.quotient(
            f"decision_{kind}_cost_ratio",
            f"{what} decision cost, {large:,} vs {small:,} waiting",
            f"decision_{kind}_us_large_queue",
            f"decision_{kind}_us_small_queue",
            _why(f.raw, "domain", "no decision timings"),
        )
    before = _number(dig(f.raw, "domain", "rss_before_bytes"))
    after = _number(dig(f.raw, "domain", "rss_after_bytes"))
    why = _why(f.raw, "domain", "not measured")
    grown = after - before if after is not None and before is not None else None
    f.put(
        "domain_state_mb",
        f"domain state, {large:,} waiting (RSS growth, fresh interpreter)",
        "MB",
        None if grown is None else grown / 2**20,
        why,
    )
    f.put(
        "domain_bytes_per_waiting_visitor",
        f"domain state per waiting visitor ({large:,} waiting, RSS growth)",
        "B",
        grown / large if grown is not None and large else None,
        why,
    )
    traced = dig(f.raw, "domain", "traced_visitors") or 0
    f.add(
        "domain_traced_bytes_per_waiting_visitor",
        f"domain state per waiting visitor ({traced:,} waiting, tracemalloc)",
        "B",
        "domain",
        ("traced_bytes_per_waiting_visitor",),
    )


def _memory(f: _Figures) -> None:
    memory = f.raw.get("memory") or {}
    reached = memory.get("visitors_waiting_reached", 0)
    target = memory.get("visitors_target", 0)
    figure = f.add(
        "queue_manager_rss_mb_reached",
        f"queue-manager process RSS, {reached:,} waiting (fed through the broker)",
        "MB",
        "memory",
        ("rss_reached_mb",),
    )
    if per_visitor := memory.get("bytes_per_waiting_visitor"):
        figure.notes.append(
            f"{per_visitor:,} bytes per waiting visitor; {memory.get('decisions_per_s')} "
            f"queue-only decisions/s; started at {memory.get('rss_baseline_mb')} MB"
        )
    figure = f.add(
        "queue_manager_rss_mb_at_target",
        f"queue-manager process RSS, {target:,} waiting, fed through the broker (measured)",
        "MB",
        "memory",
        ("rss_at_target_mb",),
    )
    if figure.value is None and "error" not in memory:
        figure.reason = (
            f"only {reached:,} of {target:,} were waiting after {memory.get('seconds')} s "
            f"(extrapolated, for reference only: {memory.get('rss_extrapolated_mb')} MB)"
        )


def _summary(f: _Figures) -> None:
    summary = f.raw.get("summary") or {}
    if not summary.get("available"):
        reason = f"not available: {summary.get('reason', 'not measured')}"
        f.put("summary_lag_p99_ms", "event to Communication Summary lag, p99", "ms", None, "")
        f.all["summary_lag_p99_ms"].reason = _why(f.raw, "summary", reason)
        return
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


def figures(raw: dict[str, Any]) -> list[Figure]:
    f = _Figures(raw)
    _floor(f)
    _routing(f)
    _assignment(f)
    _summary(f)
    _partitions(f)
    _domain(f)
    _memory(f)
    f.ratios()
    return list(f.all.values())
