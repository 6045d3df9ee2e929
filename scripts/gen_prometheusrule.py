"""Wrap deploy/monitoring/alerts.yaml into a PrometheusRule: deploy/monitoring/prometheusrule.yaml.

    python3 scripts/gen_prometheusrule.py           # rewrite the file (make monitoring)
    python3 scripts/gen_prometheusrule.py --check   # exit 1 if it is stale (deploy-check does)

alerts.yaml stays the one source of the rules: promtool checks and unit-tests it, and plain
Prometheus loads it from `rule_files`. The Prometheus Operator wants the same groups under
`spec:` of a PrometheusRule, which kustomize cannot build from a file, so this writes it. The
wrapping is textual (every line indented by two spaces), which keeps the comments and changes
nothing a YAML parser reads; standard library only, so deploy/check.sh can run it anywhere.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = "deploy/monitoring/alerts.yaml"
TARGET = "deploy/monitoring/prometheusrule.yaml"

HEADER = f"""\
# Generated from {SOURCE} by scripts/gen_prometheusrule.py; do not edit.
# Regenerate: make monitoring
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: livechat
  labels:
    app.kubernetes.io/part-of: livechat
    # kube-prometheus-stack's Prometheus selects rules by its release label by default
    # (ruleSelector); add yours in the overlay, or set ruleSelectorNilUsesHelmValues=false.
spec:
"""


def render(rules: str) -> str:
    if not any(line.startswith("groups:") for line in rules.splitlines()):
        raise ValueError(f"{SOURCE} has no top-level `groups:`")
    body = "".join(f"  {line}" if line.strip() else line for line in rules.splitlines(True))
    return HEADER + body


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    parser.add_argument("--root", type=Path, default=ROOT, help="repository root")
    args = parser.parse_args(argv)
    expected = render((args.root / SOURCE).read_text(encoding="utf-8"))
    target = args.root / TARGET
    actual = target.read_text(encoding="utf-8") if target.exists() else None
    if actual == expected:
        print(f"{TARGET} is up to date")
        return 0
    if args.check:
        print(f"{TARGET} differs from {SOURCE}: run make monitoring", file=sys.stderr)
        return 1
    target.write_text(expected, encoding="utf-8")
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
