"""Sites to partitions and partitions to replicas: stable, complete, spread out."""

from __future__ import annotations

import collections

import pytest
from livechat_shared.contracts.partitions import (
    PARTITION_HEADER,
    PARTITIONS_HEADER,
    owned_partitions,
    partition_mismatch,
    partition_of,
)
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


def test_a_message_published_with_the_consumers_partitions_and_partition_is_for_it() -> None:
    here = str(partition_of("acme", 16))
    assert partition_mismatch("acme", 16, {PARTITION_HEADER: here, PARTITIONS_HEADER: "16"}) is None
    # as the client may hand them over: bytes
    headers = {PARTITION_HEADER: here.encode(), PARTITIONS_HEADER: b"16"}
    assert partition_mismatch("acme", 16, headers) is None


def test_a_message_without_the_headers_is_not_checked() -> None:
    assert partition_mismatch("acme", 16, {}) is None


def test_a_message_published_for_other_partitions_is_not_for_the_consumer() -> None:
    theirs = partition_of("acme", 12)
    reason = partition_mismatch(
        "acme", 16, {PARTITION_HEADER: str(theirs), PARTITIONS_HEADER: "12"}
    )
    assert reason is not None
    assert f"published for PARTITIONS=12 (partition {theirs})" in reason
    assert "this service runs PARTITIONS=16" in reason
    assert f"site acme is in partition {partition_of('acme', 16)}" in reason


def test_other_partitions_count_even_when_the_partition_happens_to_agree() -> None:
    # same number by chance: the rest of that publisher's sites are not, so it says so at once
    site = next(
        f"s{n}" for n in range(1000) if partition_of(f"s{n}", 12) == partition_of(f"s{n}", 16)
    )
    headers = {PARTITION_HEADER: str(partition_of(site, 12)), PARTITIONS_HEADER: "12"}
    assert partition_mismatch(site, 16, headers) is not None


def test_a_partition_another_hash_gave_is_not_for_the_consumer() -> None:
    assert partition_of("acme", 16) == 1
    # an older publisher (no PARTITIONS header), or a hand-made message
    assert partition_mismatch("acme", 16, {PARTITION_HEADER: "7"}) == (
        "published for partition 7; this service runs PARTITIONS=16, where site acme is in "
        "partition 1: set PARTITIONS alike everywhere (README: changing PARTITIONS)"
    )
    assert partition_mismatch("acme", 16, {PARTITION_HEADER: "7", PARTITIONS_HEADER: "16"}) == (
        "published for PARTITIONS=16 (partition 7); this service runs PARTITIONS=16, where site "
        "acme is in partition 1: set PARTITIONS alike everywhere (README: changing PARTITIONS)"
    )
