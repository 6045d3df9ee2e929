"""The journal in memory: the fake the unit tests use, and a store that forgets on restart."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from queue_manager.ports import JournalEntry, refuse_duplicates


class MemoryJournal:
    def __init__(self) -> None:
        self._by_id: dict[str, JournalEntry] = {}
        self._by_seq: set[tuple[str, int]] = set()

    async def open(self) -> None:
        return None

    async def append(self, entry: JournalEntry) -> None:
        await self.append_many([entry])

    async def append_many(self, entries: Sequence[JournalEntry]) -> None:
        """All or nothing, as the file journal."""
        refuse_duplicates(entries, self._by_id, self._by_seq)
        for entry in entries:
            self._by_id[entry.message_id] = entry
            self._by_seq.add((entry.site_id, entry.seq))

    async def get(self, message_id: str) -> JournalEntry | None:
        return self._by_id.get(message_id)

    async def replay(self) -> AsyncIterator[JournalEntry]:
        for entry in sorted(self._by_id.values(), key=lambda e: (e.site_id, e.seq)):
            yield entry

    async def close(self) -> None:
        return None
