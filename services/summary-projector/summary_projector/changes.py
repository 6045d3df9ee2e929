"""Wakes the summary streams of this process when a site's summary changed here.

A stream takes a ticket before it reads the store, then waits for a later one: a change between
the read and the wait is never missed. Changes applied by other replicas are picked up by the
stream's periodic re-read instead.
"""

from __future__ import annotations

import asyncio


class Changes:
    def __init__(self) -> None:
        self._counts: dict[str, int] = {}
        self._condition = asyncio.Condition()

    def ticket(self, site_id: str) -> int:
        return self._counts.get(site_id, 0)

    async def changed(self, site_id: str) -> None:
        async with self._condition:
            self._counts[site_id] = self.ticket(site_id) + 1
            self._condition.notify_all()

    async def wait(self, site_id: str, ticket: int) -> None:
        """Return once the site changed after `ticket` (callers bound it with a timeout)."""
        async with self._condition:
            await self._condition.wait_for(lambda: self.ticket(site_id) > ticket)
