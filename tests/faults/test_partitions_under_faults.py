"""Partitions under faults: 3 queue-manager replicas and 2 of each other stateful service own the
partitions of 24 sites between them; one replica of each service is SIGKILLed, then another of
the other ordinal, under the usual load and audit (see partitions.py)."""

from __future__ import annotations

import pytest

from tests.faults.figures import Figures
from tests.faults.partitions import (
    PARTITION_FAULTS,
    PARTITION_SITES,
    PARTITIONS,
    QUEUES,
    package_of,
)

pytestmark = [pytest.mark.faults, pytest.mark.timeout(600)]


def _details(figures: Figures, *names: str) -> str:
    return "\n".join(f"{n}: {item}" for n in names for item in figures.details.get(n, [])[:30])


def test_the_replicas_shared_the_partitions_and_two_of_each_were_killed(
    partition_figures: Figures,
) -> None:
    owners = {line.split(": ")[1] for line in partition_figures.details["first owners"]}
    replicas = {package: sum(package_of(o) == package for o in owners) for package in QUEUES}
    assert replicas == {
        "queue_manager": 3,
        "session_service": 2,
        "offline_messages": 2,
        "summary_projector": 2,
    }, _details(partition_figures, "first owners")
    assert len(partition_figures.faults) == len(PARTITION_FAULTS)
    killed = {package_of(name) for _, name in PARTITION_FAULTS}
    assert killed == set(QUEUES)
    assert partition_figures.chats_started > len(PARTITION_SITES)


def test_every_partition_of_a_killed_replica_moves_within_5_seconds(
    partition_figures: Figures,
) -> None:
    f = partition_figures
    measured = {line.split(":")[0] for line in f.details["failovers by service"]}
    assert measured == set(QUEUES), _details(f, "failovers by service", "failovers")
    assert f.failovers >= PARTITIONS, _details(f, "failovers", "first owners")
    assert f.failovers_missing == 0, _details(f, "failovers")
    assert f.failover_p99_seconds <= 5.0, _details(f, "failovers")


def test_nothing_is_lost_doubled_stuck_or_over_capacity(partition_figures: Figures) -> None:
    f = partition_figures
    assert (f.lost, f.double, f.over_capacity, f.stuck) == (0, 0, 0, 0), _details(
        f, "lost", "double", "over capacity", "stuck"
    )
    assert f.unended == 0, _details(f, "unended")
    assert f.unexpected_errors == 0, _details(f, "unexpected errors")


def test_the_summary_of_every_site_equals_the_audited_truth(partition_figures: Figures) -> None:
    assert partition_figures.summary_mismatch == 0, _details(
        partition_figures, "summary (full)", "summary (empty)"
    )


def test_every_process_ran_the_code_the_run_began_with(partition_figures: Figures) -> None:
    """A source edited during the run reaches only the processes (re)started after it."""
    assert partition_figures.code_changed == 0, _details(
        partition_figures, "code changed during the run"
    )
