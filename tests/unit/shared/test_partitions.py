"""Sites to partitions and partitions to replicas: stable, complete, spread out."""

from __future__ import annotations

import collections

import pytest
from livechat_shared.contracts.partitions import owned_partitions, partition_of
from livechat_shared.contracts.services import QUEUE_MANAGER
from livechat_shared.runtime.settings import ServiceSettings
from pydantic import ValidationError


def test_a_site_is_always_in_the_same_partition() -> None:
    # Fixed values: every process, every release, every service must agree on them.
    assert partition_of("acme", 16) == 1
    assert partition_of("site-7", 4) == 2
    assert partition_of("anything", 1) == 0


def test_sites_spread_over_the_partitions() -> None:
    counts = collections.Counter(partition_of(f"site-{n}", 16) for n in range(4000))
    assert set(counts) == set(range(16))
    assert max(counts.values()) < 1.3 * 4000 / 16
    assert min(counts.values()) > 0.7 * 4000 / 16


@pytest.mark.parametrize(("replicas", "partitions"), [(1, 1), (2, 16), (3, 16), (5, 4)])
def test_every_partition_has_exactly_one_first_owner(replicas: int, partitions: int) -> None:
    owned = [owned_partitions(n, replicas, partitions) for n in range(replicas)]
    assert sorted(k for share in owned for k in share) == list(range(partitions))
    sizes = [len(share) for share in owned]
    assert max(sizes) - min(sizes) <= 1


def test_a_replica_ordinal_outside_the_replicas_stops_the_service() -> None:
    with pytest.raises(ValidationError, match="replica ordinal 3"):
        ServiceSettings(replicas=3, replica_ordinal=3)
    with pytest.raises(ValueError, match="partitions must be"):
        partition_of("acme", 0)


def test_one_partition_keeps_the_single_input_queue() -> None:
    assert QUEUE_MANAGER.input_queues(1) == ("queue-manager.input",)
    assert QUEUE_MANAGER.input_queues(3) == (
        "queue-manager.input.0",
        "queue-manager.input.1",
        "queue-manager.input.2",
    )
