"""The read side: a site's or an operator's summary from the store, and a feed of its changes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from datetime import datetime

from summary_projector.changes import Changes
from summary_projector.domain import (
    ChatLimit,
    OperatorSummary,
    QueueEntry,
    SiteSettings,
    SiteSummary,
    chat_limit,
    communication_queue,
    site_settings,
    summarize,
    summarize_operator,
)
from summary_projector.ports import SiteRecord, SummaryStore


class SummaryQueries:
    def __init__(
        self,
        store: SummaryStore,
        changes: Changes,
        clock: Callable[[], datetime],
        poll_seconds: float = 1.0,
        stream_seconds: float = 300.0,
    ) -> None:
        self.store = store
        self.changes = changes
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.stream_seconds = stream_seconds

    async def _load(self, site_id: str) -> SiteRecord:
        """The site's record, never another site's (whatever a store did with the key)."""
        record = await self.store.load(site_id)
        return record if record.site_id == site_id else SiteRecord.empty(site_id)

    async def site(self, site_id: str) -> tuple[int, SiteSummary]:
        """The summary and its version; a site never heard of has an empty one (version 0)."""
        record = await self._load(site_id)
        return record.version, summarize(record.state)

    async def operator(self, site_id: str, operator_id: str) -> tuple[int, OperatorSummary]:
        record = await self._load(site_id)
        return record.version, summarize_operator(record.state, operator_id)

    async def queue(self, site_id: str) -> tuple[int, list[QueueEntry]]:
        """The Communication Queue: waiting and offered visitors, oldest first."""
        record = await self._load(site_id)
        return record.version, communication_queue(record.state, self.clock())

    async def settings(self, site_id: str) -> SiteSettings | None:
        """The maximum number of chats of the site and its operators; None: not announced."""
        return site_settings((await self._load(site_id)).state)

    async def chat_limit(self, site_id: str, operator_id: str) -> ChatLimit | None:
        return chat_limit((await self._load(site_id)).state, operator_id)

    async def follow(
        self, site_id: str, queues_only: bool = False
    ) -> AsyncGenerator[tuple[int, SiteSummary]]:
        """The current summary, then each changed one, for `stream_seconds`.

        Changes this process saves are pushed (see `Changes`); the store is read once at the
        start, then only after `poll_seconds` without a push, once for all of the site's
        streams. With `queues_only`, only changes of the Queues count: a minimized view does
        not move when an operator goes away.
        """
        loop = asyncio.get_running_loop()
        ends = loop.time() + self.stream_seconds
        shown: object = None
        with self.changes.following(site_id) as followed:
            followed.offer(await self._load(site_id))
            while True:
                version, summary = followed.summary()
                seen = summary.queues if queues_only else summary
                if seen != shown:
                    shown = seen
                    yield version, summary
                left = ends - loop.time()
                if left <= 0:
                    return
                try:
                    async with asyncio.timeout(min(self.poll_seconds, left)):
                        await followed.newer_than(version)
                except TimeoutError:
                    if loop.time() - followed.refreshed_at >= self.poll_seconds:
                        followed.offer(await self._load(site_id))  # another replica's changes
