"""One journal per partition: a replica opens only the partitions it consumes.

Embedded: a file (and its `flock`) per partition, so one partition changes hands between two
processes of one machine while the others stay put. MongoDB: a collection per partition. A
partition is opened when its first message arrives (the queue manager then loads its sites)
and closed when the consumer loses the broker (another replica may own it meanwhile).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path

from livechat_shared.contracts.partitions import partition_of

from queue_manager.ports import JournalEntry, RoutingJournal

log = logging.getLogger(__name__)

OpenPartition = Callable[[int], RoutingJournal]


def partition_path(path: Path, partition: int) -> Path:
    """`queue-manager-journal.jsonl` -> `queue-manager-journal.p3.jsonl`."""
    return path.with_name(f"{path.stem}.p{partition}{path.suffix}")


class PartitionNotHeld(RuntimeError):
    """A decision for a site whose partition this replica has not opened: a bug, never stored."""


class PartitionedJournal:
    def __init__(
        self,
        journal_of: OpenPartition,
        partitions: int,
        close: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.partitions = partitions
        self._journal_of = journal_of
        self._held: dict[int, RoutingJournal] = {}
        self._close = close

    @property
    def held(self) -> tuple[int, ...]:
        return tuple(sorted(self._held))

    async def open(self) -> None:
        """Nothing yet: each partition is opened when this replica gets its first message."""

    async def acquire(self, partition: int) -> None:
        """Open the partition's journal (embedded: wait for its lock, which the previous owner
        lets go of when it stops or dies)."""
        if partition in self._held:
            return
        journal = self._journal_of(partition)
        await journal.open()
        self._held[partition] = journal
        log.info("took the partition's journal", extra={"partition": partition})

    async def release(self, partition: int) -> None:
        journal = self._held.pop(partition, None)
        if journal is not None:
            await journal.close()

    async def release_all(self) -> None:
        held, self._held = self._held, {}
        for journal in held.values():
            await journal.close()

    def _journal(self, site_id: str) -> RoutingJournal:
        partition = partition_of(site_id, self.partitions)
        try:
            return self._held[partition]
        except KeyError:
            raise PartitionNotHeld(f"partition {partition} (site {site_id}) is not open") from None

    async def append(self, entry: JournalEntry) -> None:
        await self._journal(entry.site_id).append(entry)

    async def append_many(self, entries: Sequence[JournalEntry]) -> None:
        """A group commit in each partition's journal the entries are in, side by side.

        Every partition is checked to be held before anything is written. Each partition's
        write is all or nothing as its journal's is, not the batch's: after a failure the
        other partitions' entries may be stored (the caller reloads, as after MongoDB's
        partial insert). Every write ends before this raises, so the reload sees them all.
        """
        shares: dict[int, list[JournalEntry]] = {}
        for entry in entries:
            shares.setdefault(partition_of(entry.site_id, self.partitions), []).append(entry)
        journals = [(self._journal(share[0].site_id), share) for share in shares.values()]
        if len(journals) == 1:
            journal, share = journals[0]
            await journal.append_many(share)
            return
        outcomes = await asyncio.gather(
            *(journal.append_many(share) for journal, share in journals), return_exceptions=True
        )
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome

    async def get(self, message_id: str) -> JournalEntry | None:
        for journal in self._held.values():
            found = await journal.get(message_id)
            if found is not None:
                return found
        return None

    async def replay(self) -> AsyncIterator[JournalEntry]:
        """Every entry of the partitions held, per site in sequence order."""
        for partition in self.held:
            async for entry in self._held[partition].replay():
                yield entry

    async def replay_partition(self, partition: int) -> AsyncIterator[JournalEntry]:
        async for entry in self._held[partition].replay():
            yield entry

    async def close(self) -> None:
        await self.release_all()
        if self._close is not None:
            await self._close()
