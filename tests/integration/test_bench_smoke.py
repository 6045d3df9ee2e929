"""`python -m bench --tiny` runs end to end against the real RabbitMQ and reports every figure.

A smoke test of the harness, never of the performance: it checks that each figure is a number
or says why it is not available, and asserts none of the targets.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
FIGURES = {
    *(
        f"floor_{hops}_hop_{q}_ms_{when}"
        for hops in ("one", "two")
        for q in ("p50", "p99")
        for when in ("before", "after")
    ),
    "floor_throughput_msgs_per_s_before",
    "floor_throughput_msgs_per_s_after",
    "floor_two_hop_p99_ms",
    "floor_throughput_msgs_per_s",
    "assignment_p50_ms_at_100_per_s",
    "assignment_p99_ms_at_100_per_s",
    "assignment_p50_ms_at_500_per_s",
    "assignment_p99_ms_at_500_per_s",
    *(
        f"cpu_ms_per_visitor_{name}_at_{rate}"
        for name in (
            "queue_manager",
            "gateway",
            "session_service",
            "offline_messages",
            "summary_projector",
            "services",
            "bench_client",
            "broker",
        )
        for rate in ("100", "500")
    ),
    "broker_cpu_share_at_100",
    "broker_cpu_share_at_500",
    "routing_decisions_per_s",
    "decision_arrival_us_small_queue",
    "decision_arrival_us_large_queue",
    "decision_arrival_cost_ratio",
    "decision_chat_end_us_small_queue",
    "decision_chat_end_us_large_queue",
    "decision_chat_end_cost_ratio",
    "summary_lag_p99_ms",
    "domain_state_mb",
    "domain_traced_bytes_per_waiting_visitor",
    "queue_manager_rss_mb_reached",
    "queue_manager_rss_mb_at_target",
    *(
        f"partitions_{figure}_{replicas}_replicas"
        for figure in (
            "decisions_per_s",
            "queue_manager_cpu_ms_per_decision",
            "broker_cpu_ms_per_decision",
            "speedup",
        )
        for replicas in (1, 2, 3)
    ),
    *(
        f"partitions_assignment_{q}_ms_{setting}"
        for q in ("p50", "p99")
        for setting in ("single_queue", "partitioned")
    ),
    "partitions_added_p50_ms",
    "partitions_added_p99_ms",
}
MAY_BE_UNAVAILABLE = {
    "summary_lag_p99_ms": "not available",
    **{
        f"partitions_broker_cpu_ms_per_decision_{replicas}_replicas": "partitions reported no"
        for replicas in (1, 2, 3)
    },
    **{
        f"{figure}_at_{rate}": "the broker's process was not found"
        for figure in ("cpu_ms_per_visitor_broker", "broker_cpu_share")
        for rate in ("100", "500")
    },
}
"""Figure -> how its reason starts: the summary projector may not expose its lag yet, and a
broker in a container shows no process here; the bench then says so."""


@pytest.mark.timeout(400)
def test_the_tiny_bench_reports_every_figure_as_a_number_or_a_reason(tmp_path: Path) -> None:
    if shutil.which("rabbitmqctl") is None:
        pytest.skip("the bench creates its own vhost with rabbitmqctl")
    run = subprocess.run(
        [sys.executable, "-m", "bench", "--tiny", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=390,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    document = json.loads((tmp_path / "latest.json").read_text())
    figures = {f["id"]: f for f in document["figures"]}
    assert figures.keys() >= FIGURES, FIGURES - figures.keys()
    for figure in figures.values():
        value = figure["value"]
        if value is None:
            assert figure["id"] in MAY_BE_UNAVAILABLE, figure
            assert figure["reason"].startswith(MAY_BE_UNAVAILABLE[figure["id"]]), figure
        else:
            assert isinstance(value, int | float) and math.isfinite(value), figure
    assert [t["id"] for t in document["targets"]] == [
        "cpu_per_visitor",
        "routing_throughput",
        "assignment_p99_at_100",
        "assignment_p99_at_500",
        "summary_lag",
        "queue_manager_rss",
        "decision_scaling",
    ]
    assert isinstance(document["meta"]["noisy"], bool)
    page = (tmp_path / "latest.md").read_text()
    assert page.startswith("# Bench results (tiny")
    assert "## Routing throughput by queue-manager replica count (issue 15)" in page
    for replicas in (1, 2, 3):  # a row of figures in the partitions table
        assert f"\n| {replicas} | " in page
    for profiled in ("queue-manager", "gateway"):
        assert f"latest-profile-{profiled}.speedscope.json" in page
        top = (tmp_path / f"latest-profile-{profiled}.txt").read_text()
        assert "own time (innermost frame)" in top, top
        speedscope = json.loads(
            (tmp_path / f"latest-profile-{profiled}.speedscope.json").read_text()
        )
        assert speedscope["profiles"], profiled
    assert len(list(tmp_path.glob("2*Z.json"))) == 1  # the timestamped copy of latest.json
