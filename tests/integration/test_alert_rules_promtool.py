"""promtool checks the alert rules, runs their unit tests, and accepts every dashboard query.

An external binary (bash scripts/check-alerts.sh --install-only fetches it), so not a unit test.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML ships no types

from tests.unit.test_alert_rules import CHECK_ALERTS, PROMTOOL_MISSING, queries

pytestmark = pytest.mark.integration


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(CHECK_ALERTS), *args], capture_output=True, text=True, timeout=300, check=False
    )


def test_promtool_checks_the_rules_and_runs_their_unit_tests() -> None:
    result = _promtool("--no-install")
    if result.returncode == PROMTOOL_MISSING:
        pytest.skip("promtool is not installed: bash scripts/check-alerts.sh --install-only")
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_accepts_every_dashboard_query(tmp_path: Path) -> None:
    which = _promtool("--which")
    if which.returncode == PROMTOOL_MISSING:
        pytest.skip("promtool is not installed: bash scripts/check-alerts.sh --install-only")
    grafana = {"$__rate_interval": "5m", "$__range": "1h", "$site": ".*"}
    rules = []
    for number, (where, promql) in enumerate(queries()):
        if where.startswith("panel"):
            for variable, value in grafana.items():
                promql = promql.replace(variable, value)
            rules.append({"record": f"dashboard:query_{number}", "expr": promql})
    path = tmp_path / "dashboard-queries.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    result = subprocess.run(
        [which.stdout.strip(), "check", "rules", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
