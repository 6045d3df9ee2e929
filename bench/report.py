"""The results of a run as JSON (everything) and Markdown (the figures, the CPU by process, the
issue's targets and the profiles), written as latest.* and a timestamped copy."""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.figures import (
    NOISY,
    PARTITIONED,
    RAW_THROUGHPUT,
    REPLICAS,
    SERVICES,
    TWO_HOP_P99,
    Figure,
    dig,
    figures,
    floor_spread,
)
from bench.targets import Target, targets

_FLOOR_NAMES = {TWO_HOP_P99: "two-hop p99", RAW_THROUGHPUT: "raw throughput"}
_CPU_ROWS = (*SERVICES, "services", "bench_client", "broker")
Q = ("p50", "p99")


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.3g}"
    return f"{text} {unit}"


def _cell(text: str) -> str:
    """Text fit for one Markdown table cell (an error message may span lines)."""
    return " ".join(text.split()).replace("|", "\\|")


def _header(meta: dict[str, Any]) -> list[str]:
    spread = meta.get("floor_spread")
    if meta.get("noisy"):
        verdict = (
            f"**noisy**: the floor before and after the system figures differ {spread:.2f}x "
            f"(more than {NOISY}x); compare its figures with care."
        )
    elif spread is not None:
        verdict = f"The floor before and after differ {spread:.2f}x (quiet enough: <= {NOISY}x)."
    else:
        verdict = "The floor was not measured both before and after: noise unknown."
    return [
        f"# Bench results ({meta['mode']}, {meta['started_at']})",
        "",
        f"{meta['duration_s']:.0f} s on {meta['cpu_count']} cores; load average at start "
        f"{meta['load_average_start']}, at end {meta['load_average_end']}. {verdict}",
    ]


def _targets_table(checked: list[Target]) -> list[str]:
    lines = [
        "",
        "## Targets (issue 12)",
        "",
        "| figure | target | limit in this run | this run | holds |",
        "|---|---|---|---|---|",
    ]
    for t in checked:
        holds = {True: "yes", False: "**no**", None: "not judged"}[t.holds]
        if t.reason:
            holds += f" ({_cell(t.reason)})"
        lines.append(
            f"| {t.figure_label} | {t.statement} | {_number(t.limit, t.unit)} | "
            f"{_number(t.value, t.unit)} | {holds} |"
        )
    return lines


def _cpu_table(found: list[Figure]) -> list[str]:
    by_id = {f.id: f for f in found}
    lines = [
        "",
        "## CPU per assigned visitor (ms), by process",
        "",
        "| process | at 100/s | at 500/s |",
        "|---|---|---|",
    ]
    for name in _CPU_ROWS:
        cells = []
        for rate in ("100", "500"):
            figure = by_id.get(f"cpu_ms_per_visitor_{name}_at_{rate}")
            cells.append(_number(figure.value if figure else None, ""))
        label = "**the five services**" if name == "services" else name.replace("_", " ")
        lines.append(f"| {label} | {' | '.join(cells)} |")
    shares = [by_id.get(f"broker_cpu_share_at_{rate}") for rate in ("100", "500")]
    lines.append(
        "| broker share of services + client + broker | "
        + " | ".join(_number(s.value if s else None, "%") for s in shares)
        + " |"
    )
    return lines


def _partitions_table(found: list[Figure], raw: dict[str, Any]) -> list[str]:
    by_id = {f.id: f for f in found}
    phase = raw.get("partitions") or {}
    lines = ["", "## Routing throughput by queue-manager replica count (issue 15)", ""]
    if error := phase.get("error"):
        return [*lines, f"Not measured: {_cell(error)}"]
    drains = phase.get("throughput") or {}
    first: dict[str, Any] = next(iter(drains.values()), {})
    lines += [
        f"{phase.get('partitions')} partitions, {first.get('sites')} sites (as many in each "
        f"partition), {first.get('visitors', 0):,} VisitorWaiting drained by N queue-manager "
        "processes, each its own partitions; the rate while every replica decides (its middle "
        "80%). The replicas and the broker share the machine's "
        f"{phase.get('cores')} cores: the cores bound the gain, and the CPU per decision "
        "shows how the work scales. The last column: how many cores the whole machine was "
        "busy meanwhile, and how many of them other processes took (other users).",
        "",
        "| replicas | decisions/s | ratio to raw | QM CPU ms per decision "
        "| broker CPU ms per decision | per-replica busy share | machine busy (others), cores |",
        "|---|---|---|---|---|---|---|",
    ]
    for n in [*REPLICAS, *(k for k in drains if k not in REPLICAS)]:
        rate = by_id[f"partitions_decisions_per_s_{n}_replicas"]
        ratio = f"{rate.ratio_to_floor:.3g}x" if rate.ratio_to_floor is not None else "n/a"
        cells = [
            _number(rate.value, "") if rate.value is not None else _cell(rate.reason or "n/a"),
            ratio,
            *(
                _number(by_id[f"partitions_{who}_cpu_ms_per_decision_{n}_replicas"].value, "")
                for who in ("queue_manager", "broker")
            ),
            " / ".join(f"{x:.0%}" for x in dig(drains, n, "busy_share_by_replica") or []) or "n/a",
            _machine(drains.get(n) or {}),
        ]
        lines.append(f"| {n} | {' | '.join(cells)} |")
    latency = phase.get("latency") or {}
    lines += [
        "",
        f"Partition routing's added latency: assignment (chat request → offer on the "
        f"operator's socket) at {latency.get('rate_per_s', 0):.0f} visitors/s, one replica of "
        "each service; both systems run side by side, each on a vhost of its own, and take "
        "the requests in turns of a few seconds, so that the machine's other load falls on "
        "both alike.",
        "",
        "| PARTITIONS | p50 | p99 |",
        "|---|---|---|",
    ]
    for key, setting in zip(PARTITIONED, ("1", str(phase.get("partitions"))), strict=True):
        cells = [_number(by_id[f"partitions_assignment_{q}_ms_{key}"].value, "ms") for q in Q]
        lines.append(f"| {setting} | {' | '.join(cells)} |")
    added = [_number(by_id[f"partitions_added_{q}_ms"].value, "ms") for q in Q]
    lines.append(f"| added by partitions | {' | '.join(added)} |")
    return lines


def _machine(drained: dict[str, Any]) -> str:
    busy, others = drained.get("machine_busy_cores"), drained.get("other_processes_cores")
    return f"{busy:.2f} ({others:.2f})" if busy is not None and others is not None else "n/a"


def _figures_table(found: list[Figure]) -> list[str]:
    lines = ["", "## All figures", "", "| figure | value | ratio to floor | notes |"]
    lines.append("|---|---|---|---|")
    for f in found:
        if f.id.startswith(("cpu_ms_per_visitor_", "broker_cpu_share_")) and not f.notes:
            continue  # in the CPU table
        if f.id.startswith("partitions_") and not f.notes:
            continue  # in the partitions table
        ratio = ""
        if f.ratio_to_floor is not None and f.floor != f.id:
            ratio = f"{f.ratio_to_floor:.3g}x {_FLOOR_NAMES.get(f.floor or '', f.floor)}"
        notes = _cell("; ".join(([f.reason] if f.reason else []) + f.notes))
        lines.append(f"| {f.label} | {_number(f.value, f.unit)} | {ratio} | {notes} |")
    return lines


def _profiles(raw: dict[str, Any]) -> list[str]:
    found = raw.get("profile") or {}
    lines = ["", "## Profiles at saturation (py-spy)", ""]
    if error := found.get("error"):
        return [*lines, f"Not taken: {error}"]
    for load in ("queue_manager_drain", "gateway_requests"):
        if error := (found.get(load) or {}).get("error"):
            lines.append(f"- the load {load.replace('_', ' ')} failed ({error}): partial profile")
    for name in ("queue-manager", "gateway"):
        one = found.get(name) or {}
        if "speedscope" not in one:
            lines.append(f"- {name}: {one.get('error', 'not taken')}")
            continue
        top = "; ".join(f"{t['share']:.0%} {t['function']}" for t in one.get("own_top", [])[:5])
        lines.append(
            f"- {name}: [{one['speedscope']}]({one['speedscope']}) (open in speedscope.app), "
            f"[{one['top_functions']}]({one['top_functions']}); {one['samples']:,} samples; "
            f"most own time: {top}"
        )
    return lines


def markdown(
    meta: dict[str, Any], found: list[Figure], checked: list[Target], raw: dict[str, Any]
) -> str:
    lines = [
        *_header(meta),
        *_targets_table(checked),
        *_cpu_table(found),
        *_partitions_table(found, raw),
        *_figures_table(found),
        *_profiles(raw),
    ]
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
    checked = targets(found, raw)
    spread = floor_spread(found)
    meta = {**meta, "floor_spread": spread, "noisy": spread is not None and spread > NOISY}
    document = {
        "meta": meta,
        "figures": [asdict(f) for f in found],
        "targets": [asdict(t) for t in checked],
        "raw": raw,
    }
    text = json.dumps(_finite(document), indent=2, default=str, allow_nan=False) + "\n"
    page = markdown(meta, found, checked, raw)
    out.mkdir(parents=True, exist_ok=True)
    for name in ("latest", stamp):
        (out / f"{name}.json").write_text(text)
        (out / f"{name}.md").write_text(page)
    return out / "latest.json", out / "latest.md"
