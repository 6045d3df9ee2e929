"""The partitioned fault run: many sites over PARTITIONS partitions, 3 queue-manager replicas,
two of them SIGKILLed one after the other; how long each of their partitions went unowned."""

from __future__ import annotations

import json
import math
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from livechat_shared.contracts.services import QUEUE_MANAGER

from tests.faults.figures import Figures
from tests.faults.scenario import Kill
from tests.support.rabbit_node import RabbitNode

PARTITIONS = 6
PARTITION_SITES = {f"part-{n:02d}": 2 for n in range(24)}
"""A few dozen sites of two operators each (a visitor one declined can go to the other),
spread over every partition."""
FILL_SECONDS = 20.0
"""The last wave (every operator full, plus 10) comes over this long: 154 visitors."""
PARTITION_FAULTS: tuple[Kill, ...] = ((8, "queue_manager_0"), (22, "queue_manager_1"))
TOOK_OVER = "took over a partition"
HANDED_BACK = '"logger": "livechat_shared.runtime.consumer", "msg": "handed a partition back"'


def await_standbys(node: RabbitNode, replicas: int, within: float = 60.0) -> None:
    """Every replica consumes every partition (the owner active, the others standing by)."""
    deadline = time.monotonic() + within
    names = QUEUE_MANAGER.input_queues(PARTITIONS)
    while True:
        rows = json.loads(node.ctl("list_consumers", "queue_name", "-q", "--formatter", "json"))
        counts = {n: sum(1 for r in rows if r["queue_name"] == n) for n in names}
        if all(c >= replicas for c in counts.values()):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"not every replica stands by for every partition: {counts}")
        time.sleep(0.5)


def takeovers(logs: Path) -> list[tuple[float, str, int, float]]:
    """(time, replica, partition, when its first message was sent) of every "took over a
    partition" in the replicas' logs."""
    found = []
    for path in sorted(logs.glob("queue_manager_*.log")):
        for line in path.read_text(errors="replace").splitlines():
            if TOOK_OVER not in line:
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            at = datetime.fromisoformat(entry["ts"]).timestamp()
            sent = datetime.fromisoformat(entry["first_message_at"]).timestamp()
            found.append((at, path.stem, int(entry["partition"]), sent))
    return sorted(found)


def failovers(figures: Figures, killed_at: list[tuple[str, float]], logs: Path) -> None:
    """For each kill, each partition the killed replica held: how long its first message after
    the kill waited for the new owner — from the kill, or from when it was sent if later (a
    quiet partition shows its handover only with its next message). A partition never taken
    over counts as failed."""
    taken = takeovers(logs)
    seconds: list[float] = []
    lines, never = [], []
    for replica, at in killed_at:
        for partition in range(PARTITIONS):
            before = [r for t, r, k, _ in taken if k == partition and t <= at]
            if not before or before[-1] != replica:
                continue
            after = [
                (t, r, sent)
                for t, r, k, sent in taken
                if k == partition and t > at and r != replica
            ]
            if not after:
                never.append(f"partition {partition} of {replica}: never taken over")
                continue
            took, by, sent = after[0]
            waited = took - max(at, sent)
            seconds.append(waited)
            lines.append(
                f"partition {partition}: {replica} killed, {by} took it {took - at:.2f} s "
                f"later; its first message waited {waited:.2f} s"
            )
    figures.failovers = len(seconds)
    figures.failovers_missing = len(never)
    if seconds:
        ordered = sorted(seconds)
        figures.failover_p50_seconds = round(ordered[len(ordered) // 2], 2)
        figures.failover_p99_seconds = round(ordered[math.ceil(0.99 * len(ordered)) - 1], 2)
    first: dict[int, str] = {}
    for _, replica, partition, _ in taken:
        first.setdefault(partition, replica)
    figures.details["first owners"] = [f"partition {k}: {r}" for k, r in sorted(first.items())]
    figures.details["failovers"] = lines + never
    backs = [
        f"{path.stem}: {line.count(HANDED_BACK)}"
        for path in sorted(logs.glob("queue_manager_*.log"))
        if (line := path.read_text(errors="replace"))
    ]
    figures.details["hand-backs (a replica back gets its own partitions)"] = backs
    figures.details["replica events"] = [
        f"{path.stem}: {entry['ts'][11:23]} {entry['msg']} {entry.get('partitions', '')}"
        f"{entry.get('partition', '')} {entry.get('error', '')}"
        for path in sorted(logs.glob("queue_manager_*.log"))
        for entry in _entries(path)
        if entry["msg"] in REPLICA_EVENTS
    ]


REPLICA_EVENTS = {
    "consuming",
    "standing by",
    "handed a partition back",
    "could not hand a partition back",
    "could not stand by for other partitions",
    "the consumer lost the broker",
    "consuming again after a connection loss",
}


def _entries(path: Path) -> list[dict[str, Any]]:
    found = []
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            try:
                found.append(json.loads(line))
            except ValueError:
                continue
    return found
