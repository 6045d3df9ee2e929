"""Summary streams are pushed what the projector saves: no store reads per change, one frame
per change batch (the newest), and another replica's changes after a poll interval."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

from livechat_shared.contracts import Event
from summary_projector.adapters.memory_store import MemorySummaryStore
from summary_projector.changes import Changes
from summary_projector.domain import SiteSummary
from summary_projector.handlers import ProjectionService
from summary_projector.ports import SiteRecord
from summary_projector.queries import SummaryQueries

from tests.unit.summary_projector.events import SITE, at, online, queued


class CountedReads(MemorySummaryStore):
    """The stream's view of a store whose records the projector saves: reads are counted."""

    def __init__(self, saved: MemorySummaryStore) -> None:
        super().__init__()
        self.saved = saved
        self.loads = 0

    async def load(self, site_id: str) -> SiteRecord:
        self.loads += 1
        return await self.saved.load(site_id)


def setting(poll_seconds: float) -> tuple[ProjectionService, SummaryQueries, CountedReads]:
    store = MemorySummaryStore()
    changes = Changes()
    projector = ProjectionService(store, lambda: at(0), changed=changes.changed)
    reads = CountedReads(store)
    queries = SummaryQueries(reads, changes, lambda: at(0), poll_seconds=poll_seconds)
    return projector, queries, reads


async def next_frame(stream: AsyncGenerator[tuple[int, SiteSummary]]) -> tuple[int, SiteSummary]:
    async with asyncio.timeout(1.0):
        return await anext(stream)


async def test_a_stream_gets_each_change_pushed_without_reading_the_store_again() -> None:
    projector, queries, reads = setting(poll_seconds=60)
    stream = queries.follow(SITE)
    assert (await next_frame(stream))[0] == 0
    await projector.project(queued("v1", 1))
    version, summary = await next_frame(stream)
    assert (version, summary.queues.chats.waiting) == (1, 1)
    await projector.project(online("ann"))
    version, summary = await next_frame(stream)
    assert (version, summary.operators.online) == (2, 1)
    assert reads.loads == 1  # the first frame's read only
    await stream.aclose()


async def test_a_batch_is_one_frame_and_a_busy_stream_gets_only_the_newest() -> None:
    projector, queries, _ = setting(poll_seconds=60)
    stream = queries.follow(SITE)
    await next_frame(stream)
    batch: list[Event] = [queued("v1", 1), queued("v2", 2), online("ann")]
    await projector.project_all(batch)
    version, summary = await next_frame(stream)
    assert (version, summary.queues.chats.waiting, summary.operators.online) == (3, 2, 1)
    for n in range(3, 6):  # the stream is not reading meanwhile (a slow client)
        await projector.project(queued(f"v{n}", n))
    version, summary = await next_frame(stream)
    assert (version, summary.queues.chats.waiting) == (6, 5)
    await stream.aclose()


async def test_streams_of_a_site_share_its_summary_and_stop_following_when_closed() -> None:
    projector, queries, _ = setting(poll_seconds=60)
    streams = [queries.follow(SITE) for _ in range(3)]
    for stream in streams:
        await next_frame(stream)
    await projector.project(queued("v1", 1))
    got = [await next_frame(stream) for stream in streams]
    assert {version for version, _ in got} == {1}
    assert len({id(summary) for _, summary in got}) == 1  # counted once for all
    for stream in streams:
        await stream.aclose()
    assert queries.changes._followed == {}


async def test_a_change_another_replica_saved_reaches_the_stream_after_a_poll() -> None:
    _, queries, reads = setting(poll_seconds=0.05)
    stream = queries.follow(SITE)
    await next_frame(stream)
    elsewhere = ProjectionService(reads.saved, lambda: at(0))  # saves, pushes to no one here
    await elsewhere.project(online("ann"))
    version, summary = await next_frame(stream)
    assert (version, summary.operators.online) == (1, 1)
    assert reads.loads >= 2
    await stream.aclose()
