"""Partitioned input on the real broker: each partition has one owner, per-site order holds, and
a replica that goes hands its partitions to the others (single active consumer).

Each test runs one message at a time and in batches (a batch handler, up to 64 deliveries of
several partitions' channels together, each channel's acked on it)."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence

import pytest
from livechat_shared.contracts import Message, VisitorLeftQueue
from livechat_shared.contracts.partitions import owned_partitions, partition_of
from livechat_shared.contracts.topology import DEAD_LETTER_REASON_HEADER
from livechat_shared.runtime.broker import Bus, build_broker
from livechat_shared.runtime.metrics import ServiceMetrics

from tests.support.broker import AMQP_URL
from tests.support.consuming import (
    consuming,
    next_dead_letter,
    publish_quickly,
    throwaway,
    wait_for_all,
    wait_until,
)

pytestmark = pytest.mark.integration

PARTITIONS = 4
SITES = 24
EACH = 10


BATCHED = pytest.mark.parametrize("batch_max", [1, 64], ids=["one-by-one", "batches"])


def recording(
    record: Callable[[Message], None], delay: float = 0.0
) -> tuple[Callable[[Message], Awaitable[None]], Callable[[Sequence[Message]], Awaitable[None]]]:
    """A handler and a batch handler that record what they handle, in order."""

    async def handle(message: Message) -> None:
        if delay:
            await asyncio.sleep(delay)
        record(message)

    async def handle_batch(messages: Sequence[Message]) -> None:
        if delay:
            await asyncio.sleep(delay)
        for message in messages:
            record(message)

    return handle, handle_batch


def load(sites: list[str], start: int) -> list[Message]:
    """EACH messages per site, interleaved across sites, numbered per site."""
    return [
        VisitorLeftQueue(site_id=site, visitor_id=f"v{n}")
        for n in range(start, start + EACH)
        for site in sites
    ]


@BATCHED
async def test_each_partition_has_one_owner_and_a_gone_owner_hands_over(
    site_id: str, batch_max: int
) -> None:
    queues = throwaway(single_active_consumer=True)
    sites = [f"{site_id}-{n}" for n in range(SITES)]
    assert {partition_of(s, PARTITIONS) for s in sites} == set(range(PARTITIONS))
    handled: dict[str, list[tuple[str, str]]] = {"a": [], "b": []}
    arrivals: dict[str, list[float]] = {"a": [], "b": []}

    def record(replica: str) -> Callable[[Message], None]:
        def add(message: Message) -> None:
            assert isinstance(message, VisitorLeftQueue)
            handled[replica].append((message.site_id, message.visitor_id))
            arrivals[replica].append(time.monotonic())

        return add

    def replica(name: str, ordinal: int, delete: bool):  # type: ignore[no-untyped-def]
        handle, handle_batch = recording(record(name))
        return consuming(
            queues,
            handle,
            handle_batch=handle_batch,
            batch_max=batch_max,
            partitions=PARTITIONS,
            owned=owned_partitions(ordinal, 2, PARTITIONS),
            # b must register on its own partitions before a stands by for them
            standby_delay_seconds=3.0,
            delete_queues=delete,
        )

    async with contextlib.AsyncExitStack() as stack:
        a = contextlib.AsyncExitStack()
        await a.enter_async_context(replica("a", 0, delete=False))
        await stack.enter_async_context(replica("b", 1, delete=True))
        await asyncio.sleep(3.5)  # both stand by for the other's partitions now

        await publish_quickly(load(sites, 0), partitions=PARTITIONS)
        first_round = {(site, f"v{n}") for site in sites for n in range(EACH)}
        await wait_for_all(lambda: {*handled["a"], *handled["b"]}, first_round, queues=queues)
        assert len(handled["a"]) + len(handled["b"]) == SITES * EACH  # each once
        owner = {site: r for r in handled for site, _ in handled[r]}
        for site, r in owner.items():  # the first owner of each partition decided for its sites
            assert partition_of(site, PARTITIONS) % 2 == (0 if r == "a" else 1), site
        for r in handled:  # and each site in publishing order
            per_site = collections.defaultdict(list)
            for site, visitor in handled[r]:
                per_site[site].append(int(visitor[1:]))
            assert all(v == sorted(v) for v in per_site.values())

        await a.aclose()  # replica a goes: b is the standby of partitions 0 and 2
        gone = time.monotonic()
        before = len(handled["b"])
        await publish_quickly(load(sites, EACH), partitions=PARTITIONS)
        second_round = {(site, f"v{n}") for site in sites for n in range(EACH, 2 * EACH)}
        await wait_for_all(lambda: set(handled["b"][before:]), second_round, queues=queues)
        takeover = arrivals["b"][before] - gone
        assert takeover < 5.0
        later = collections.defaultdict(list)
        for site, visitor in handled["b"][before:]:
            later[site].append(int(visitor[1:]))
        assert set(later) == set(sites)
        assert all(v == list(range(EACH, 2 * EACH)) for v in later.values())


@BATCHED
@pytest.mark.timeout(300)
async def test_a_replica_that_comes_back_gets_its_partition_handed_back(
    site_id: str, batch_max: int
) -> None:
    queues = throwaway(single_active_consumer=True)
    candidates = [f"{site_id}-{n}" for n in range(1000)]
    # half the sites in replica a's own partition, half in b's (the same load on every run)
    mine = [s for s in candidates if partition_of(s, 2) == 0][: SITES // 2]
    # b's own: in batches, b's batches hold deliveries of both partitions' channels
    theirs = (
        [s for s in candidates if partition_of(s, 2) == 1][: SITES // 2] if batch_max > 1 else []
    )
    handled: dict[str, list[tuple[str, int]]] = {"a": [], "b": []}
    released: list[int] = []

    def handler(replica: str):  # type: ignore[no-untyped-def]
        def add(message: Message) -> None:
            assert isinstance(message, VisitorLeftQueue)
            handled[replica].append((message.site_id, int(message.visitor_id[1:])))

        # slow enough that deliveries wait in the inbox
        return recording(add, delay=0.005)

    async def b_released(partition: int) -> None:
        released.append(partition)

    async with contextlib.AsyncExitStack() as stack:
        # b alone: its own partition 1 at once, a's partition 0 as the only consumer there
        b_handle, b_batch = handler("b")
        b = await stack.enter_async_context(
            consuming(
                queues,
                b_handle,
                handle_batch=b_batch,
                batch_max=batch_max,
                partitions=2,
                owned=(1,),
                standby_delay_seconds=0.2,
                rebalance_seconds=1.0,
                released=b_released,
                delete_queues=True,
            )
        )
        await asyncio.sleep(0.5)
        await publish_quickly(load(mine, 0), partitions=2)
        first_round = {(s, n) for s in mine for n in range(EACH)}
        await wait_for_all(lambda: set(handled["b"]), first_round, queues=queues)

        # a comes back and lines up on its own partition: b hands it back within a round,
        # while messages keep coming (some wait in b's inbox when it hands back)
        a_done = contextlib.AsyncExitStack()
        a_handle, a_batch = handler("a")
        await a_done.enter_async_context(
            consuming(
                queues,
                a_handle,
                handle_batch=a_batch,
                batch_max=batch_max,
                partitions=2,
                owned=(0,),
                standby_delay_seconds=60,
                delete_queues=False,
            )
        )
        rounds = 30
        for n in range(rounds):
            await publish_quickly(load(mine + theirs, EACH * (n + 1)), partitions=2)
            await asyncio.sleep(0.1)
        await wait_until(lambda: bool(released), timeout=10)
        assert set(released) == {0}, released
        expected = {(s, n) for s in mine for n in range(EACH * (rounds + 1))} | {
            (s, n) for s in theirs for n in range(EACH, EACH * (rounds + 1))
        }
        # One by one, that is 3,720 handlings of 5 ms or more: ~19 s on a quiet machine, and CI
        # twice took longer than a fixed bound (20 s, then 120 s). A lost message is one that
        # never comes while the others have stopped coming.
        await wait_for_all(lambda: {*handled["a"], *handled["b"]}, expected, queues=queues)
        assert handled["a"], "a never got its partition back"
        assert b.reconnects == 0  # the hand-back closed one channel, not the connection
        for site in mine:  # in order: b's part, then a's (a redelivered one at most twice)
            seen = [n for s, n in handled["b"] + handled["a"] if s == site]
            assert list(dict.fromkeys(seen)) == list(range(EACH * (rounds + 1))), site
        for site in theirs:  # b's own partition stayed with b, in order, each once
            assert [n for s, n in handled["a"] if s == site] == []
            seen = [n for s, n in handled["b"] if s == site]
            assert seen == list(range(EACH, EACH * (rounds + 1))), site
        await a_done.aclose()


async def test_a_message_published_for_other_partitions_is_dead_lettered_with_the_reason(
    site_id: str,
) -> None:
    # a site that a PARTITIONS=6 publisher puts in a partition this PARTITIONS=4 consumer has
    # (so the broker routes it there), but not in the one the consumer computes
    site = next(
        s
        for s in (f"{site_id}-{n}" for n in range(1000))
        if partition_of(s, 6) < PARTITIONS and partition_of(s, 6) != partition_of(s, PARTITIONS)
    )
    queues = throwaway(single_active_consumer=True)
    handled: list[str] = []
    handle, handle_batch = recording(
        lambda m: handled.append(m.visitor_id if isinstance(m, VisitorLeftQueue) else "")
    )
    metrics = ServiceMetrics(queues.service)
    async with consuming(
        queues,
        handle,
        metrics=metrics,
        handle_batch=handle_batch,
        partitions=PARTITIONS,
        owned=tuple(range(PARTITIONS)),
    ):
        for partitions, visitor in ((6, "misplaced"), (PARTITIONS, "placed")):
            publisher = ServiceMetrics(f"publisher-{partitions}")
            broker = build_broker(AMQP_URL, 8, publisher.registry, publisher.service)
            await broker.connect()
            try:
                bus = Bus(broker, throwaway(), partitions=partitions)
                await bus.publish(VisitorLeftQueue(site_id=site, visitor_id=visitor))
            finally:
                await broker.stop()

        dead = await next_dead_letter(queues, marker="misplaced")
        reason = str(dead.headers[DEAD_LETTER_REASON_HEADER])
        assert reason.startswith(
            f"published for PARTITIONS=6 (partition {partition_of(site, 6)}); "
            f"this service runs PARTITIONS={PARTITIONS}"
        ), reason
        await wait_until(lambda: handled == ["placed"])
        counted = metrics.registry.get_sample_value(
            "livechat_dead_lettered_messages_total", {"reason": "partition_mismatch"}
        )
        assert counted == 1
