"""The partitioned fault run: many sites over PARTITIONS partitions, 3 queue-manager replicas and
2 of each other stateful service; one replica of each SIGKILLed, then another (of the other
ordinal); how long each of their partitions went without an active consumer."""

from __future__ import annotations

import json
import math
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from livechat_shared.contracts.services import (
    OFFLINE_MESSAGES,
    QUEUE_MANAGER,
    SESSION_SERVICE,
    SUMMARY_PROJECTOR,
)
from livechat_shared.contracts.topology import ServiceQueues

from tests.faults.figures import Figures
from tests.faults.scenario import Kill
from tests.support.fleet import LocalProcess
from tests.support.rabbit_node import RabbitNode

PARTITIONS = 6
PARTITION_SITES = {f"part-{n:02d}": 2 for n in range(24)}
"""A few dozen sites of two operators each (a visitor one declined can go to the other),
spread over every partition."""
FILL_SECONDS = 20.0
"""The last wave (every operator full, plus 10) comes over this long: 154 visitors."""
PARTITION_FAULTS: tuple[Kill, ...] = (
    (8, "queue_manager_0"),
    (10, "session_service_0"),
    (12, "summary_projector_0"),
    (14, "offline_messages_0"),
    # the other ordinals, once the first ones are back and stand by again
    (24, "queue_manager_1"),
    (26, "session_service_1"),
    (28, "summary_projector_1"),
    (30, "offline_messages_1"),
)
"""Each kill waits for the one before to be ready again (a few seconds): these are earliest."""
QUEUES: dict[str, ServiceQueues] = {
    "queue_manager": QUEUE_MANAGER,
    "session_service": SESSION_SERVICE,
    "offline_messages": OFFLINE_MESSAGES,
    "summary_projector": SUMMARY_PROJECTOR,
}
"""The partitioned services, by package (a replica's name is the package and its ordinal)."""
TOOK_OVER = {"queue_manager": "took over a partition"}
"""What a replica logs when it becomes a partition's active consumer. The queue manager's is
logged once the partition's journal is loaded (the takeover's whole cost); the others' is the
consumer's, on the partition's first delivery (they load nothing: their stores are shared)."""
ACTIVE = "active on a partition"
APPLIED_AGAIN = "a site changed since it was read"
HANDED_BACK = '"logger": "livechat_shared.runtime.consumer", "msg": "handed a partition back"'


def await_standbys(
    node: RabbitNode, services: dict[str, LocalProcess], within: float = 60.0
) -> None:
    """Every replica consumes every partition (the owner active, the others standing by)."""
    deadline = time.monotonic() + within
    expected = {}
    for package, queues in QUEUES.items():
        replicas = sum(1 for p in services.values() if p.package == package)
        expected.update(dict.fromkeys(queues.input_queues(PARTITIONS), replicas))
    while True:
        rows = json.loads(node.ctl("list_consumers", "queue_name", "-q", "--formatter", "json"))
        counts = {n: sum(1 for r in rows if r["queue_name"] == n) for n in expected}
        if all(c >= expected[n] for n, c in counts.items()):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"not every replica stands by for every partition: {counts}")
        time.sleep(0.5)


def package_of(replica: str) -> str:
    return replica.rsplit("_", 1)[0]


def takeovers(logs: Path) -> list[tuple[float, str, int, float]]:
    """(time, replica, partition, when its first message was sent) of every time a replica
    became a partition's active consumer, from the replicas' logs."""
    found = []
    for path in sorted(logs.glob("*_[0-9].log")):
        said = TOOK_OVER.get(package_of(path.stem), ACTIVE)
        for line in path.read_text(errors="replace").splitlines():
            if said not in line:
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("msg") != said or not entry.get("first_message_at"):
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
    by_service: dict[str, list[float]] = {}
    lines, never = [], []
    for replica, at in killed_at:
        package = package_of(replica)
        theirs = [(t, r, k, sent) for t, r, k, sent in taken if package_of(r) == package]
        for partition in range(PARTITIONS):
            before = [r for t, r, k, _ in theirs if k == partition and t <= at]
            if not before or before[-1] != replica:
                continue
            after = [
                (t, r, sent)
                for t, r, k, sent in theirs
                if k == partition and t > at and r != replica
            ]
            if not after:
                never.append(f"partition {partition} of {replica}: never taken over")
                continue
            took, by, sent = after[0]
            waited = took - max(at, sent)
            seconds.append(waited)
            by_service.setdefault(package, []).append(waited)
            lines.append(
                f"partition {partition}: {replica} killed, {by} took it {took - at:.2f} s "
                f"later; its first message waited {waited:.2f} s"
            )
    figures.failovers = len(seconds)
    figures.failovers_missing = len(never)
    if seconds:
        figures.failover_p50_seconds = _percentile(seconds, 0.5)
        figures.failover_p99_seconds = _percentile(seconds, 0.99)
    figures.details["failovers by service"] = [
        f"{package}: {len(waits)} partitions taken over, p50 {_percentile(waits, 0.5)} s, "
        f"p99 {_percentile(waits, 0.99)} s"
        for package, waits in sorted(by_service.items())
    ]
    first: dict[tuple[str, int], str] = {}
    for _, replica, partition, _ in taken:
        first.setdefault((package_of(replica), partition), replica)
    figures.details["first owners"] = [
        f"{package} partition {k}: {r}" for (package, k), r in sorted(first.items())
    ]
    figures.details["failovers"] = lines + never
    replica_logs = sorted(logs.glob("*_[0-9].log"))
    backs = [
        f"{path.stem}: {line.count(HANDED_BACK)}"
        for path in replica_logs
        if (line := path.read_text(errors="replace"))
    ]
    figures.details["hand-backs (a replica back gets its own partitions)"] = backs
    again = {
        path.stem: path.read_text(errors="replace").count(APPLIED_AGAIN)
        for path in replica_logs
        if path.stem.startswith("summary_projector")
    }
    figures.projector_applied_again = sum(again.values())
    figures.details["projector batches applied again (a site changed since it was read)"] = [
        f"{replica}: {count}" for replica, count in again.items()
    ]
    figures.details["replica events"] = [
        f"{path.stem}: {entry['ts'][11:23]} {entry['msg']} {entry.get('partitions', '')}"
        f"{entry.get('partition', '')} {entry.get('error', '')}"
        for path in replica_logs
        for entry in _entries(path)
        if entry["msg"] in REPLICA_EVENTS
    ]


def _percentile(seconds: list[float], share: float) -> float:
    ordered = sorted(seconds)
    if share == 0.5:
        return round(ordered[len(ordered) // 2], 2)
    return round(ordered[math.ceil(share * len(ordered)) - 1], 2)


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
