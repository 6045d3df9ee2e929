"""The projector use case on the in-memory store: each event counts once, and a rebuild agrees."""

from __future__ import annotations

import random
from collections.abc import Sequence

import pytest
from livechat_shared.contracts import ChatMessagePosted, Event
from livechat_shared.runtime.metrics import ServiceMetrics
from summary_projector.adapters.memory_store import MemorySummaryStore
from summary_projector.adapters.metrics import ProjectionMetrics
from summary_projector.domain import SummaryState, summarize
from summary_projector.handlers import ProjectionService
from summary_projector.ports import Save, SiteRecord
from summary_projector.read_model import rebuild, start_read_model

from tests.unit.summary_projector.events import SITE, at, ids, online, queued
from tests.unit.summary_projector.workload import Workload


class Seen:
    """Records what the projector reports, in place of the Prometheus metrics."""

    def __init__(self) -> None:
        self.applied: list[tuple[str, float]] = []
        self.duplicates: list[str] = []
        self.conflicts = 0
        self.changed: list[str] = []

    def applied_event(self, event: Event, lag_seconds: float) -> None:
        self.applied.append((event.type_name(), lag_seconds))

    def duplicate_event(self, event: Event) -> None:
        self.duplicates.append(event.type_name())

    def write_conflict(self) -> None:
        self.conflicts += 1

    def site_changed(self, record: SiteRecord) -> None:
        self.changed.append(record.site_id)


def projector(store: MemorySummaryStore, seen: Seen | None = None) -> ProjectionService:
    seen = seen or Seen()
    return ProjectionService(store, lambda: at(3600), observer=seen, changed=seen.site_changed)


async def project_all(p: ProjectionService, events: list[Event]) -> SiteRecord:
    for event in events:
        await p.project(event)
    return await p.store.load(SITE)


@pytest.fixture(scope="module")
def events() -> list[Event]:
    return Workload(seed=7).run(300)


async def test_every_event_counts_once_when_each_is_delivered_twice(events: list[Event]) -> None:
    once = await project_all(projector(MemorySummaryStore()), events)
    seen = Seen()
    twice = await project_all(
        projector(MemorySummaryStore(), seen), [e for e in events for _ in range(2)]
    )
    assert twice == once
    assert summarize(twice.state) == summarize(once.state)
    assert len(seen.duplicates) == len(events) and len(seen.applied) == len(events)


async def test_a_late_replay_of_every_event_changes_nothing(events: list[Event]) -> None:
    p = projector(MemorySummaryStore())
    first = await project_all(p, events)
    replayed = await project_all(p, random.Random(1).sample(events, len(events)))
    assert replayed == first


async def test_a_rebuild_from_the_archive_gives_the_same_summary(events: list[Event]) -> None:
    store = MemorySummaryStore()
    live = await project_all(projector(store), [e for e in events for _ in range(2)])
    rebuilt = await rebuild(store)
    assert rebuilt.events == len(events) and rebuilt.sites == 1
    assert await store.load(SITE) == live


class ArchiveFailsOnce(MemorySummaryStore):
    """A crash after the summary was saved, before the event was archived (MongoDB writes
    them in two steps)."""

    def __init__(self) -> None:
        super().__init__()
        self.failed = False

    async def commit(self, saves: Sequence[Save], events: Sequence[Event]) -> set[str]:
        if not self.failed:
            self.failed = True
            await super().commit(saves, [])
            raise ConnectionError("the store went away")
        return await super().commit(saves, events)


async def test_a_redelivery_after_a_crash_between_saving_and_archiving_counts_once() -> None:
    store = ArchiveFailsOnce()
    seen = Seen()
    p = projector(store, seen)
    event = queued("v1", 0)
    with pytest.raises(ConnectionError):
        await p.project(event)
    assert await p.project(event) is False
    assert await store.is_archived(str(event.event_id))
    record = await store.load(SITE)
    assert (record.version, summarize(record.state).queues.chats.waiting) == (1, 1)
    assert seen.duplicates == ["VisitorQueued"]


class AnotherWriterFirst(MemorySummaryStore):
    """Another replica saves a change to the site between this one's load and save."""

    def __init__(self, other: Event) -> None:
        super().__init__()
        self.other: Event | None = other

    async def commit(self, saves: Sequence[Save], events: Sequence[Event]) -> set[str]:
        if self.other is not None:
            other, self.other = self.other, None
            await projector(self).project(other)
        return await super().commit(saves, events)


async def test_a_concurrent_writer_is_not_overwritten_the_change_is_applied_again() -> None:
    store = AnotherWriterFirst(online("bob"))
    seen = Seen()
    await projector(store, seen).project(queued("v1", 0))
    summary = summarize((await store.load(SITE)).state)
    assert (summary.queues.chats.waiting, summary.operators.online) == (1, 1)
    assert seen.conflicts == 1 and (await store.load(SITE)).version == 2


async def test_events_outside_the_summary_are_archived_but_change_nothing() -> None:
    store = MemorySummaryStore()
    seen = Seen()
    p = projector(store, seen)
    posted = ChatMessagePosted(
        site_id=SITE,
        session_id=ids("s1")["s1"],
        seq=1,
        author="visitor",
        client_message_id="c1",
        text="Hello",
        visitor_id="v1",
        operator_id="ann",
    )
    assert await p.project(posted) is True
    assert await p.project(posted) is False
    assert (await store.load(SITE)).version == 0
    assert [e.event_id async for e in store.replay()] == [posted.event_id]
    assert seen.changed == []


async def test_open_streams_hear_of_changes_only() -> None:
    seen = Seen()
    p = projector(MemorySummaryStore(), seen)
    event = online("ann")
    await p.project(event)
    await p.project(event)
    await p.project(online("ann"))  # a new event, but nothing changes
    assert seen.changed == [SITE]


async def test_lag_applied_and_duplicates_reach_the_service_metrics() -> None:
    metrics = ServiceMetrics("summary-projector")
    p = ProjectionService(
        MemorySummaryStore(), lambda: at(2.5), observer=ProjectionMetrics(metrics)
    )
    event = queued("v1", 0)
    await p.project(event)
    await p.project(event)
    sample = metrics.registry.get_sample_value
    assert sample("livechat_summary_events_applied_total", {"type": "VisitorQueued"}) == 1
    assert sample("livechat_summary_events_duplicate_total", {"type": "VisitorQueued"}) == 1
    assert sample("livechat_summary_projection_lag_seconds_count") == 1
    assert sample("livechat_summary_projection_lag_seconds_sum") == 2.5
    assert sample("livechat_summary_projection_lag_seconds_bucket", {"le": "1.0"}) == 0


async def test_a_start_on_an_empty_read_model_rebuilds_it_from_the_archive() -> None:
    events = Workload(seed=4).run(100)
    live = projector(MemorySummaryStore())
    await project_all(live, events)
    expected = await live.store.load(SITE)
    await live.store.drop_summaries()
    started = await start_read_model(live.store)
    assert started.rebuilt is not None and not started.kept
    assert await live.store.load(SITE) == expected
    assert (await start_read_model(live.store)).kept


async def test_a_start_with_neither_summaries_nor_archive_says_it_starts_from_nothing() -> None:
    assert (await start_read_model(MemorySummaryStore())).from_nothing


class AnotherReplicaSavesFirst(MemorySummaryStore):
    """A second projector on the same store saves a site just after this one found none."""

    async def has_summaries(self) -> bool:
        found = await super().has_summaries()
        await MemorySummaryStore.save(
            self, SiteRecord.empty(SITE).after("theirs", SummaryState(SITE)), 0
        )
        return found


async def test_a_start_up_rebuild_never_overwrites_what_another_replica_saved() -> None:
    store = AnotherReplicaSavesFirst()
    for event in Workload(seed=4).run(30):
        await store.archive(event)
    assert (await start_read_model(store)).kept
    assert (await store.load(SITE)).recent == ("theirs",)
