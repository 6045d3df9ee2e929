"""A batch is the same as its events one by one: random event streams (with redeliveries and
events of other sites mixed in), cut into random batches, give the very same records."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st
from livechat_shared.contracts import Event, Message
from summary_projector.adapters.memory_store import MemorySummaryStore
from summary_projector.domain import SummaryState, apply, summarize
from summary_projector.handlers import ProjectionService
from summary_projector.ports import Save, SiteRecord

from tests.unit.summary_projector.events import SITE, at, online, queued
from tests.unit.summary_projector.workload import Workload

OTHER = "other-site"


def stream(seed: int, length: int, repeats: Sequence[int]) -> list[Event]:
    """A site's events with some delivered again later, and another site's between them."""
    events = [online("bob"), *Workload(seed).run(length)]
    for n, at_index in enumerate(repeats):
        again = events[at_index % len(events)]
        events.insert(min(len(events), at_index % len(events) + 1 + n), again)
    other = online("ann").model_copy(update={"site_id": OTHER})
    events.insert(len(events) // 2, other)
    return events


def cut(events: list[Event], sizes: Sequence[int]) -> list[list[Event]]:
    batches, start = [], 0
    for size in sizes:
        if start >= len(events):
            break
        batches.append(events[start : start + size])
        start += size
    if start < len(events):
        batches.append(events[start:])
    return batches


async def records(store: MemorySummaryStore) -> tuple[SiteRecord, SiteRecord]:
    return await store.load(SITE), await store.load(OTHER)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    length=st.integers(1, 120),
    repeats=st.lists(st.integers(0, 1_000), max_size=8),
    sizes=st.lists(st.integers(1, 64), min_size=1, max_size=40),
)
async def test_batches_give_the_same_records_as_one_event_at_a_time(
    seed: int, length: int, repeats: list[int], sizes: list[int]
) -> None:
    events = stream(seed, length, repeats)
    once, twice = MemorySummaryStore(), MemorySummaryStore()
    one_by_one = ProjectionService(once, lambda: at(0))
    for event in events:
        await one_by_one.project(event)
    batched = ProjectionService(twice, lambda: at(0))
    messages: list[Message] = list(events)
    for batch in cut(events, sizes):
        await batched.handle_batch(batch)
    expected = await records(once)
    assert await records(twice) == expected
    assert [e async for e in twice.replay()] == [e async for e in once.replay()]
    # Delivered all over again, in one batch: nothing changes.
    await batched.handle_batch(messages)
    assert await records(twice) == expected


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), length=st.integers(1, 200))
def test_applying_in_place_counts_as_a_fold_of_copies_would(seed: int, length: int) -> None:
    state = SummaryState(SITE)
    for event in Workload(seed).run(length):
        before = state.copy()
        changed = apply(state, event)
        assert changed is (state != before)


class Counted(MemorySummaryStore):
    def __init__(self) -> None:
        super().__init__()
        self.commits = 0

    async def commit(self, saves: Sequence[Save], events: Sequence[Event]) -> set[str]:
        self.commits += 1
        return await super().commit(saves, events)


async def test_a_batch_is_one_store_write_and_reports_each_event() -> None:
    store = Counted()
    seen: list[str] = []
    projector = ProjectionService(store, lambda: at(0), changed=lambda r: seen.append(r.site_id))
    batch = [queued("v1", 1), queued("v2", 2), online("ann"), queued("v1", 1)]
    batch[3] = batch[0]  # the same event twice in one batch counts once
    applied = await projector.project_all(batch)
    assert store.commits == 1
    assert applied == batch[:3]
    assert seen == [SITE]  # one push per changed site and batch
    record = await store.load(SITE)
    assert record.version == 3
    assert summarize(record.state).queues.chats.waiting == 2
