"""Issue 15: routing throughput by queue-manager replica count over partitioned sites.

For each replica count N, on a vhost of its own: a backlog of VisitorWaiting over many sites,
published with the partition header into the partition queues (declared with the services' own
topology code), then N queue-manager processes (ordinals 0..N-1) drain it, each its own
partitions: the standby delay is longer than the run, so none takes over another's. Every
partition holds as many sites (chosen by their hash), so the replicas get equal shares: what
is measured is the replicas, not the hash's spread.

The replicas start at the same moment: until all of them are ready, the bench is the active
consumer of every partition queue (single active consumer), holding one message of a site of
its own in each; the replicas wait in line behind it, and closing its channel hands every
partition to its replica at once (else the first replica up would drain alone for the second
or so the others take to start on 2 cores).

The rate is taken while every replica decides (from the last replica's first offer to the first
replica's last offer, its middle 80% as in routing.py), and the CPU of each queue manager and of
the broker over the same span, sampled from /proc, gives the CPU per decision and each
replica's busy share. The replicas and the broker share the machine's cores: on 2 cores they
bound the gain.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractIncomingMessage
from livechat_shared.contracts import Presence, SetOperatorPresence
from livechat_shared.contracts.partitions import owned_partitions, partition_of
from livechat_shared.contracts.services import QUEUE_MANAGER

from bench import routing
from bench.assignment import Clocks
from bench.config import Sizes
from bench.processes import Service
from bench.rabbit import encode, publish_all

ServiceFactory = Callable[[str, str, dict[str, str]], Service]
"""(package, name, environment) -> a service not started yet (Run.service)."""
STANDBY_DELAY_SECONDS = 300.0
"""The settings' maximum: longer than any drain, so no replica consumes another's partitions."""
SAMPLE_SECONDS = 0.1


def balanced_sites(partitions: int, per_partition: int, what: str = "partitions") -> list[str]:
    """New site ids, `per_partition` in each partition (in partition order)."""
    prefix = f"bench-{what}-{uuid.uuid4().hex[:6]}"
    by_partition: dict[int, list[str]] = {k: [] for k in range(partitions)}
    i = 0
    while any(len(sites) < per_partition for sites in by_partition.values()):
        site = f"{prefix}-{i}"
        i += 1
        found = by_partition[partition_of(site, partitions)]
        if len(found) < per_partition:
            found.append(site)
    return [site for sites in by_partition.values() for site in sites]


def owners(replicas: int, partitions: int) -> dict[int, int]:
    """Partition -> the ordinal of the replica that consumes it first (its owner)."""
    return {
        k: ordinal
        for ordinal in range(replicas)
        for k in owned_partitions(ordinal, replicas, partitions)
    }


class CpuSamples:
    """The clocks (CPU seconds so far) read every SAMPLE_SECONDS while in the `async with`,
    so that the CPU over any span inside it can be interpolated."""

    def __init__(self, clocks: Clocks) -> None:
        self.clocks = clocks
        self.times: list[float] = []
        self.values: list[dict[str, float]] = []
        self._task: asyncio.Task[None] | None = None

    def _sample(self) -> None:
        self.times.append(time.perf_counter())
        self.values.append({name: clock() for name, clock in self.clocks.items()})

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(SAMPLE_SECONDS)
            self._sample()

    async def __aenter__(self) -> CpuSamples:
        self._sample()
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._sample()

    def at(self, moment: float) -> dict[str, float]:
        """Each clock at `moment`, interpolated between the samples around it."""
        i = min(max(bisect.bisect_left(self.times, moment), 1), len(self.times) - 1)
        t0, t1 = self.times[i - 1], self.times[i]
        weight = min(1.0, max(0.0, (moment - t0) / (t1 - t0))) if t1 > t0 else 1.0
        before, after = self.values[i - 1], self.values[i]
        return {name: before[name] + (after[name] - before[name]) * weight for name in before}

    def between(self, start: float, end: float) -> dict[str, float]:
        first, last = self.at(start), self.at(end)
        return {name: last[name] - first[name] for name in first}


async def _one_in_every_partition(channel: AbstractChannel, partitions: int, what: str) -> None:
    """Publish a SetOperatorPresence of a site of the bench's own to every partition."""
    online = (
        SetOperatorPresence(site_id=site, operator_id=what, presence=Presence.ONLINE)
        for site in balanced_sites(partitions, 1, what)
    )
    await publish_all(channel, (encode(message, partitions) for message in online))


async def touch_every_partition(url: str, partitions: int) -> None:
    """A message in every partition, so that the queue manager opens every partition's
    journal before a timed phase (once per partition and process: not routing's cost)."""
    connection = await aio_pika.connect(url)
    async with connection:
        await _one_in_every_partition(
            await connection.channel(publisher_confirms=True), partitions, "warm-up"
        )


async def hold(url: str, partitions: int) -> AbstractConnection:
    """Become the active consumer of every partition queue of the queue manager (declared
    already), holding one SetOperatorPresence of a site of the bench's own in each; close the
    connection to hand them all on at once."""
    connection = await aio_pika.connect(url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        await _one_in_every_partition(channel, partitions, "hold")
        await channel.set_qos(prefetch_count=1)  # per consumer: one message each
        held = asyncio.Event()
        holding: list[AbstractIncomingMessage] = []

        async def keep(delivery: AbstractIncomingMessage) -> None:
            holding.append(delivery)  # never acked: returned when the connection closes
            if len(holding) == partitions:
                held.set()

        for k in range(partitions):
            queue = await channel.get_queue(QUEUE_MANAGER.partition_queue(k, partitions))
            await queue.consume(keep)
        await asyncio.wait_for(held.wait(), 30)
    except BaseException:
        await connection.close()
        raise
    return connection


def while_all_decide(
    tap: routing.Tap, cpu: CpuSamples, replicas: int, partitions: int, released: float = 0.0
) -> dict[str, Any]:
    """The rate and the CPU per decision over the span in which every replica decides
    (`released`: when the partitions went to the replicas)."""
    owner = owners(replicas, partitions)
    by_replica: list[list[float]] = [[] for _ in range(replicas)]
    for at, site in zip(tap.arrivals, tap.sites, strict=True):
        by_replica[owner[partition_of(site, partitions)]].append(at)
    found: dict[str, Any] = {"decisions_by_replica": [len(a) for a in by_replica]}
    if not all(by_replica):
        return {**found, "reason": "a replica made no decision"}
    start = max(min(a) for a in by_replica)
    end = min(max(a) for a in by_replica)
    found["first_offer_spread_s"] = round(start - min(min(a) for a in by_replica), 3)
    found["first_offer_s_by_replica"] = [round(min(a) - released, 3) for a in by_replica]
    inside = [at for at in tap.arrivals if start <= at <= end]
    if len(inside) < 10:
        found["reason"] = "the replicas hardly decided at the same time: the whole drain's rate"
        inside = tap.arrivals
    decisions, first, last = routing.middle_span(inside)
    seconds = last - first
    used = cpu.between(first, last)
    names = [f"queue_manager_{k}" for k in range(replicas)]
    queue_managers = sum(used[name] for name in names)
    accounted = queue_managers + used.get("broker", 0.0) + used.get("bench_client", 0.0)
    return {
        **found,
        "decisions_per_s": round(decisions / seconds, 1),
        "span_s": round(seconds, 3),
        "span_decisions": decisions,
        "queue_manager_cpu_ms_per_decision": round(queue_managers * 1000 / decisions, 4),
        "broker_cpu_ms_per_decision": (
            round(used["broker"] * 1000 / decisions, 4) if "broker" in used else None
        ),
        "busy_share_by_replica": [round(used[name] / seconds, 3) for name in names],
        "machine_busy_cores": round(used["machine"] / seconds, 3),
        "other_processes_cores": round(max(0.0, used["machine"] - accounted) / seconds, 3),
        "cpu_seconds": {name: round(value, 3) for name, value in used.items()},
    }


async def throughput(
    url: str,
    replicas: int,
    sizes: Sizes,
    service: ServiceFactory,
    clocks: Clocks,
    journal: Path,
) -> dict[str, Any]:
    """N queue-manager replicas drain a backlog over `sizes.partition_sites` sites on `url`
    (a vhost nobody else uses); `clocks` are the broker's, the bench client's and the
    machine's."""
    partitions = sizes.partitions
    sites = balanced_sites(partitions, max(1, sizes.partition_sites // partitions))
    per_site = max(1, sizes.partition_visitors // len(sites))
    visitors = per_site * len(sites)
    env = {
        "AMQP_URL": url,
        "PARTITIONS": str(partitions),
        "QUEUE_MANAGER_REPLICAS": str(replicas),
        "QUEUE_MANAGER_STANDBY_DELAY_SECONDS": str(STANDBY_DELAY_SECONDS),
        "QUEUE_MANAGER_REBALANCE_SECONDS": "0",
        # one journal (a file per partition) shared by the replicas, as on one machine
        "QUEUE_MANAGER_JOURNAL_PATH": str(journal),
    }
    queue_managers = {
        f"queue_manager_{k}": service(
            "queue_manager",
            f"queue-manager-{replicas}-replicas-{k}",
            {**env, "QUEUE_MANAGER_REPLICA_ORDINAL": str(k)},
        )
        for k in range(replicas)
    }
    await routing.declare_queue_manager_topology(url, partitions=partitions)
    holding = await hold(url, partitions)
    tap = routing.Tap(url, "ChatOffered", *sites)
    try:
        _, operators = await routing.publish_backlog(
            url, per_site, sizes.max_chats, sites, partitions
        )
        await tap.open(visitors)
        starts = [qm.start() for qm in queue_managers.values()]
        for outcome in await asyncio.gather(*starts, return_exceptions=True):
            if isinstance(outcome, BaseException):
                raise outcome
        clocks = {**clocks, **{name: qm.cpu for name, qm in queue_managers.items()}}
        async with CpuSamples(clocks) as cpu:
            started = time.perf_counter()
            await holding.close()  # every partition to its replica, now
            timeout = max(30.0, visitors / 50)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(tap.done.wait(), timeout)
        found = routing.result(tap, visitors, operators, started, timeout)
        found["decisions_per_s_whole_drain"] = found.pop("decisions_per_s")
        return {
            "replicas": replicas,
            "sites": len(sites),
            **found,
            **while_all_decide(tap, cpu, replicas, partitions, started),
        }
    finally:
        await holding.close()
        await tap.close()
        await asyncio.gather(*(qm.stop() for qm in queue_managers.values()))
