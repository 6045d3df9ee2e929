"""The partitions phase's arithmetic: sites spread evenly, and the rate and CPU per decision taken
only while every queue-manager replica decides."""

from __future__ import annotations

from collections import Counter

from livechat_shared.contracts.partitions import partition_of

from bench.partitions import CpuSamples, balanced_sites, owners, while_all_decide
from bench.routing import Tap


def test_balanced_sites_put_as_many_sites_in_every_partition() -> None:
    sites = balanced_sites(12, 4)
    assert len(set(sites)) == 48
    assert Counter(partition_of(site, 12) for site in sites) == {k: 4 for k in range(12)}


def _samples(times: list[float], values: list[dict[str, float]]) -> CpuSamples:
    samples = CpuSamples({})
    samples.times, samples.values = times, values
    return samples


def test_cpu_over_a_span_is_interpolated_between_samples() -> None:
    samples = _samples([0.0, 1.0, 2.0], [{"qm": 0.0}, {"qm": 0.5}, {"qm": 1.5}])
    assert samples.between(0.5, 1.5) == {"qm": 0.75}


def test_the_rate_counts_only_while_every_replica_decides() -> None:
    """Replica 0 decides alone for 10 s at 100/s; then both decide at 100/s each for 10 s."""
    replica_site = {owners(2, 4)[partition_of(site, 4)]: site for site in balanced_sites(4, 1)}
    tap = Tap("amqp://unused", "ChatOffered")
    for i in range(2000):
        tap.arrivals.append(i / 100)
        tap.sites.append(replica_site[0])
    for i in range(1000):
        tap.arrivals.append(10 + i / 100)
        tap.sites.append(replica_site[1])
    order = sorted(range(len(tap.arrivals)), key=tap.arrivals.__getitem__)
    tap.arrivals = [tap.arrivals[i] for i in order]
    tap.sites = [tap.sites[i] for i in order]
    # each replica busy half a core while it decides; the broker a quarter all along
    cpu = _samples(
        [0.0, 10.0, 20.0],
        [
            {"queue_manager_0": 0.0, "queue_manager_1": 0.0, "broker": 0.0, "machine": 0.0},
            {"queue_manager_0": 5.0, "queue_manager_1": 0.0, "broker": 2.5, "machine": 7.5},
            {"queue_manager_0": 10.0, "queue_manager_1": 5.0, "broker": 5.0, "machine": 20.0},
        ],
    )
    found = while_all_decide(tap, cpu, replicas=2, partitions=4)
    assert found["decisions_by_replica"] == [2000, 1000]
    assert found["first_offer_spread_s"] == 10.0
    assert found["first_offer_s_by_replica"] == [0.0, 10.0]
    assert abs(found["decisions_per_s"] - 200) < 1
    assert abs(found["queue_manager_cpu_ms_per_decision"] - 5.0) < 0.1  # 1 core / 200 per s
    assert abs(found["broker_cpu_ms_per_decision"] - 1.25) < 0.05
    assert [round(x, 2) for x in found["busy_share_by_replica"]] == [0.5, 0.5]
    assert abs(found["machine_busy_cores"] - 1.25) < 0.01
