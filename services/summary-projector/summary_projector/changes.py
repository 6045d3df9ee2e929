"""Pushes each site's newly saved summary to the streams of this process that follow the site.

The projector hands over every record a batch saved; a site that some stream follows keeps the
newest one and wakes its streams, which take it from here instead of reading the store. A
stream that was busy sending while several batches changed the site takes only the newest:
at most one frame per stream per change. Changes applied by another replica (a standby that
serves streams while another one consumes) arrive by a re-read of the store instead: one per
followed site and `poll_seconds` without a push, however many streams follow it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

from summary_projector.domain import SiteSummary, summarize
from summary_projector.ports import SiteRecord


class Followed:
    """One site as the streams of this process follow it: its newest known record."""

    def __init__(self, record: SiteRecord) -> None:
        self.record = record
        self.followers = 0
        self.refreshed_at = asyncio.get_running_loop().time()
        self._next: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._summary: tuple[int, SiteSummary] | None = None

    def offer(self, record: SiteRecord) -> None:
        """A record read or saved now: kept (and the streams woken) if newer than the one held.
        A saved record's state is never changed afterwards (the projector copies it first)."""
        self.refreshed_at = asyncio.get_running_loop().time()
        if record.version <= self.record.version:
            return
        self.record = record
        self._next.set_result(None)
        self._next = asyncio.get_running_loop().create_future()

    def summary(self) -> tuple[int, SiteSummary]:
        """The newest record's version and summary, counted once for all its streams."""
        if self._summary is None or self._summary[0] != self.record.version:
            self._summary = (self.record.version, summarize(self.record.state))
        return self._summary

    async def newer_than(self, version: int) -> None:
        """Return once a record newer than `version` is held (callers bound it with a timeout;
        the shared future is shielded, so one stream's timeout never cancels it for others)."""
        while self.record.version <= version:
            await asyncio.shield(self._next)


class Changes:
    def __init__(self) -> None:
        self._followed: dict[str, Followed] = {}

    def changed(self, record: SiteRecord) -> None:
        """A record the projector saved; ignored when no stream follows its site."""
        followed = self._followed.get(record.site_id)
        if followed is not None:
            followed.offer(record)

    @contextlib.contextmanager
    def following(self, site_id: str) -> Iterator[Followed]:
        """Follow the site while the block runs. A new follower then reads the store and
        offers what it read: a change saved during that read is kept, being newer."""
        followed = self._followed.get(site_id)
        if followed is None:
            followed = self._followed[site_id] = Followed(SiteRecord.empty(site_id))
        followed.followers += 1
        try:
            yield followed
        finally:
            followed.followers -= 1
            if followed.followers == 0:
                del self._followed[site_id]
