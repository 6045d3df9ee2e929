"""The dashboard and the alert rules in deploy/monitoring ask only for metrics the code exposes.

Metric definitions are read from the source of services/ and shared/ (every prometheus_client
metric constructed there), rendered through prometheus_client to get the names it exposes
(`_total`, `_bucket`, ...), plus FastStream's own metrics. promtool's checks of the
rules and queries are integration tests (tests/integration/test_alert_rules_promtool.py).
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import prometheus_client
import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML ships no types
from livechat_shared.runtime.broker import build_broker
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

ROOT = Path(__file__).resolve().parents[2]
MONITORING = ROOT / "deploy" / "monitoring"
CHECK_ALERTS = ROOT / "scripts" / "check-alerts.sh"
PROMTOOL_MISSING = 77

WHEN_PRESENT: frozenset[str] = frozenset()
"""Metrics the dashboard or the rules may name before the code has them (a service being
built). Name them here, and mark their panels "(when present)"; empty while none is pending."""

RABBITMQ_METRICS: dict[str, frozenset[str]] = {
    f"rabbitmq_detailed_queue_{name}": frozenset({"vhost", "queue"})
    for name in (
        "consumers",
        "messages",
        "messages_ready",
        "messages_unacked",
        "head_message_timestamp",
    )
}
"""RabbitMQ's own metrics that the rules and the dashboard read, with their labels: served by
the broker's rabbitmq_prometheus plugin at /metrics/detailed (families queue_coarse_metrics
and queue_metrics), not by our code."""

ALWAYS_THERE = frozenset({"job", "instance"})  # labels Prometheus adds to every scraped series

_METRIC_CLASSES = {
    "Counter",
    "Gauge",
    "Histogram",
    "Summary",
    "Info",
    "Enum",
    "CounterMetricFamily",
    "GaugeMetricFamily",
    "HistogramMetricFamily",
}
_PROMQL_WORDS = {
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
    "offset", "bool", "sum", "min", "max", "avg", "count", "stddev", "stdvar", "topk",
    "bottomk", "quantile", "count_values", "group", "inf", "nan",
}  # fmt: skip


# --- what the code exposes ----------------------------------------------------------------


@dataclass(frozen=True)
class Definition:
    kind: str
    name: str
    labels: tuple[str, ...]
    where: str


def _literal_strings(node: ast.expr | None) -> tuple[str, ...]:
    if isinstance(node, ast.List | ast.Tuple):
        return tuple(
            e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)
        )
    return ()


def _definitions_in(path: Path) -> Iterator[Definition]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    local: dict[str, str] = {}  # name in this module -> prometheus_client class
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("prometheus_client"):
            local.update(
                {a.asname or a.name: a.name for a in node.names if a.name in _METRIC_CLASSES}
            )
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            continue
        kind = local.get(node.func.id)
        if kind is None:
            continue
        where = f"{path.relative_to(ROOT)}:{node.lineno}"
        keywords = {k.arg: k.value for k in node.keywords}
        name = node.args[0] if node.args else keywords.get("name")
        assert isinstance(name, ast.Constant) and isinstance(name.value, str), (
            f"{where}: write the metric's name as a literal, so this test can read it"
        )
        labels = keywords.get("labels" if kind.endswith("Family") else "labelnames")
        if labels is None and len(node.args) > 2 and not kind.endswith("Family"):
            labels = node.args[2]
        yield Definition(kind, name.value, _literal_strings(labels), where)


def code_definitions() -> list[Definition]:
    found: list[Definition] = []
    for top in ("services", "shared"):
        for path in sorted((ROOT / top).rglob("*.py")):
            found.extend(_definitions_in(path))
    return found


class _Families(prometheus_client.registry.Collector):
    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterator[Metric]:
        yield from self.families


def _exposed_samples(definition: Definition) -> set[str]:
    """Render the metric with one sample through prometheus_client and read the names back."""
    registry = CollectorRegistry()
    values = ["x"] * len(definition.labels)
    labels = list(definition.labels)
    if definition.kind in {"Counter", "Gauge", "Histogram", "Summary", "Info", "Enum"}:
        metric_class = getattr(prometheus_client, definition.kind)
        extra: dict[str, Any] = {"states": ["a"]} if definition.kind == "Enum" else {}
        metric = metric_class(definition.name, "doc", labels, registry=registry, **extra)
        if labels:
            metric.labels(*values)
    else:
        family: Metric
        if definition.kind == "CounterMetricFamily":
            family = CounterMetricFamily(definition.name, "doc", labels=labels)
            family.add_metric(values, 1.0)
        elif definition.kind == "GaugeMetricFamily":
            family = GaugeMetricFamily(definition.name, "doc", labels=labels)
            family.add_metric(values, 1.0)
        else:
            family = HistogramMetricFamily(definition.name, "doc", labels=labels)
            family.add_metric(values, [("1.0", 1.0), ("+Inf", 1.0)], 1.0)
        registry.register(_Families([family]))
    text = generate_latest(registry).decode()
    return set(re.findall(r"^([a-zA-Z_:][\w:]*)[{ ]", text, re.MULTILINE))


def _faststream_samples() -> set[str]:
    """FastStream's middleware registers its metrics when the broker is built (no connection)."""
    registry = CollectorRegistry()
    build_broker("amqp://guest:guest@127.0.0.1:5672/", 1, registry, "any")
    suffixes = {"counter": ("",), "gauge": ("",), "histogram": ("_bucket", "_count", "_sum")}
    names: set[str] = set()
    for name, kind in re.findall(r"^# TYPE (\S+) (\S+)", generate_latest(registry).decode(), re.M):
        names.update(name + suffix for suffix in suffixes[kind])
    return names


@pytest.fixture(scope="module")
def exposed() -> dict[str, set[str]]:
    """Every sample name the code exposes -> the labels it carries (None: not checked)."""
    names: dict[str, set[str]] = {}
    for definition in code_definitions():
        for sample in _exposed_samples(definition):
            labels = set(definition.labels) | ({"le"} if sample.endswith("_bucket") else set())
            names.setdefault(sample, set()).update(labels)
    assert "livechat_queue_depth" in names and "livechat_offers_total" in names, (
        "scan found nothing"
    )
    for sample in _faststream_samples():
        names.setdefault(sample, {"*"})
    for name, broker_labels in RABBITMQ_METRICS.items():
        names.setdefault(name, set(broker_labels))
    return names


# --- what the dashboard and the rules ask for ---------------------------------------------


def _rules() -> dict[str, Any]:
    rules = yaml.safe_load((MONITORING / "alerts.yaml").read_text(encoding="utf-8"))
    assert isinstance(rules, dict)
    return rules


def _dashboard() -> dict[str, Any]:
    dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text(encoding="utf-8"))
    assert isinstance(dashboard, dict)
    return dashboard


def _panels() -> list[dict[str, Any]]:
    return [p for p in _dashboard()["panels"] if p["type"] != "row"]


def queries() -> list[tuple[str, str]]:
    """(where, PromQL) for every query in the rules and the dashboard."""
    found = []
    for group in _rules()["groups"]:
        for rule in group["rules"]:
            found.append((rule.get("alert") or rule["record"], rule["expr"]))
    for panel in _panels():
        for target in panel["targets"]:
            found.append((f"panel {panel['title']!r}", target["expr"]))
    for variable in _dashboard()["templating"]["list"]:
        if variable["type"] == "query":  # Grafana's label_values(metric, label): the metric
            metric = re.sub(r"label_values\((.+),\s*\w+\)", r"\1", variable["definition"])
            found.append((f"variable {variable['name']}", metric))
    return found


def recorded() -> set[str]:
    return {r["record"] for g in _rules()["groups"] for r in g["rules"] if "record" in r}


def metric_names(promql: str) -> set[str]:
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', promql)
    text = re.sub(r"\{[^}]*\}|\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    names = re.findall(r"(?<![\w:.$])([a-zA-Z_:][\w:]*)(?![\w:])(?!\s*\()", text)
    return {n for n in names if n.lower() not in _PROMQL_WORDS}


def selectors(promql: str) -> Iterator[tuple[str, set[str]]]:
    for name, matchers in re.findall(r"([a-zA-Z_:][\w:]*)\s*\{([^}]*)\}", promql):
        yield name, set(re.findall(r"([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)", matchers))


def test_every_metric_asked_for_is_exposed_by_the_code(exposed: dict[str, set[str]]) -> None:
    known = set(exposed) | recorded() | WHEN_PRESENT
    unknown = [
        f"{where}: {name}"
        for where, promql in queries()
        for name in sorted(metric_names(promql) - known)
    ]
    assert not unknown, "no such metric in the code:\n" + "\n".join(unknown)


def test_label_filters_name_labels_the_metric_has(exposed: dict[str, set[str]]) -> None:
    wrong = []
    for where, promql in queries():
        for name, labels in selectors(promql):
            has = exposed.get(name)
            if has is None or "*" in has:
                continue  # a recorded series, or FastStream's (its labels are its own)
            if missing := labels - has - ALWAYS_THERE:
                wrong.append(f"{where}: {name} has no label {', '.join(sorted(missing))}")
    assert not wrong, "\n".join(wrong)


def test_the_name_reader_finds_names_and_filters() -> None:
    promql = (
        'histogram_quantile(0.95, sum by (le, channel) (rate(a_bucket{site=~"$site"}[5m])))'
        " > 120 unless on (channel) b_total offset 10m and c:d:e"
    )
    assert metric_names(promql) == {"a_bucket", "b_total", "c:d:e"}
    assert list(selectors(promql)) == [("a_bucket", {"site"})]


# --- the dashboard -------------------------------------------------------------------------


def test_dashboard_has_a_prometheus_datasource_variable_and_a_site_filter() -> None:
    dashboard = _dashboard()
    assert dashboard["schemaVersion"] >= 38
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    assert variables["site"]["type"] == "query"
    assert variables["site"]["datasource"]["uid"] == "${datasource}"
    assert variables["site"]["includeAll"] and variables["site"]["allValue"] == ".*"


def test_every_panel_queries_the_chosen_datasource_and_has_a_place_of_its_own() -> None:
    panels = _dashboard()["panels"]
    assert len({p["id"] for p in panels}) == len(panels), "panel ids repeat"
    taken: set[tuple[int, int]] = set()
    for panel in panels:
        box = panel["gridPos"]
        assert box["x"] + box["w"] <= 24, panel["title"]
        cells = {
            (x, y)
            for x in range(box["x"], box["x"] + box["w"])
            for y in range(box["y"], box["y"] + box["h"])
        }
        assert not cells & taken, f"{panel['title']} overlaps another panel"
        taken |= cells
        if panel["type"] == "row":
            continue
        assert panel["targets"], panel["title"]
        for source in (panel["datasource"], *(t["datasource"] for t in panel["targets"])):
            assert source == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]


# --- the rules -----------------------------------------------------------------------------


def test_every_alert_is_documented_and_tested_both_ways() -> None:
    tests = yaml.safe_load((MONITORING / "alerts.test.yaml").read_text(encoding="utf-8"))
    readme = (MONITORING / "README.md").read_text(encoding="utf-8").lower()
    cases = [c for t in tests["tests"] for c in t.get("alert_rule_test", [])]
    for group in _rules()["groups"]:
        for rule in group["rules"]:
            if "alert" not in rule:
                continue
            name = rule["alert"]
            assert rule["labels"]["severity"] in {"critical", "warning"}, name
            assert {"summary", "description", "runbook"} <= set(rule["annotations"]), name
            assert f"### {name.lower()}" in readme, f"README.md has no section for {name}"
            mine = [c for c in cases if c["alertname"] == name]
            assert any(c["exp_alerts"] for c in mine), f"no test where {name} fires"
            assert any(not c["exp_alerts"] for c in mine), f"no test where {name} stays quiet"


# --- the Kubernetes objects made of them ---------------------------------------------------


def test_the_prometheusrule_is_alerts_yaml_wrapped_and_up_to_date(tmp_path: Path) -> None:
    from scripts import gen_prometheusrule as gen

    wrapped = yaml.safe_load((ROOT / gen.TARGET).read_text(encoding="utf-8"))
    assert wrapped["kind"] == "PrometheusRule"
    assert wrapped["spec"] == _rules(), "stale: run make monitoring"
    assert gen.main(["--check"]) == 0

    (tmp_path / gen.SOURCE).parent.mkdir(parents=True)
    (tmp_path / gen.SOURCE).write_text(
        (ROOT / gen.SOURCE).read_text().replace("for: 2m", "for: 3m")
    )
    (tmp_path / gen.TARGET).write_text((ROOT / gen.TARGET).read_text())
    assert gen.main(["--check", "--root", str(tmp_path)]) == 1
    assert gen.main(["--root", str(tmp_path)]) == 0
    assert yaml.safe_load((tmp_path / gen.TARGET).read_text())["spec"] == yaml.safe_load(
        (tmp_path / gen.SOURCE).read_text()
    )


def test_the_dashboard_configmap_is_labelled_for_the_grafana_sidecar() -> None:
    component = yaml.safe_load((MONITORING / "kustomization.yaml").read_text(encoding="utf-8"))
    (generator,) = component["configMapGenerator"]
    assert generator["options"]["labels"]["grafana_dashboard"] == "1"
    (file_entry,) = generator["files"]
    assert file_entry.endswith("=grafana-dashboard.json"), "the dashboard file itself, no copy"
