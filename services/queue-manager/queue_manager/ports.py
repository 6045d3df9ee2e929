"""The queue manager's ports: the routing journal (its durable state) and the outbound bus."""

from __future__ import annotations

from collections.abc import AsyncIterator, Container, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from livechat_shared.contracts import Message


@dataclass(frozen=True)
class JournalEntry:
    """One routing decision: the message that caused it and the events it produced, in order.

    Stored in one write, keyed by the message id, so a redelivered message is recognised and a
    crash between storing and publishing is healed by publishing the stored events again.
    """

    message_id: str
    site_id: str
    seq: int
    recorded_at: datetime
    message: dict[str, Any]
    events: list[dict[str, Any]]


class DuplicateEntry(Exception):
    """The message id (or the site's sequence number) is stored already."""


def refuse_duplicates(
    entries: Sequence[JournalEntry],
    stored_ids: Container[str],
    stored_seqs: Container[tuple[str, int]],
) -> None:
    """Raise DuplicateEntry if a batch repeats an id or a sequence number, or holds one already
    stored: every journal checks a batch this way before writing any of it (all or nothing)."""
    ids = {e.message_id for e in entries}
    seqs = {(e.site_id, e.seq) for e in entries}
    if len(ids) < len(entries) or len(seqs) < len(entries):
        raise DuplicateEntry("an id or a sequence number twice in one batch")
    for entry in entries:
        if entry.message_id in stored_ids or (entry.site_id, entry.seq) in stored_seqs:
            raise DuplicateEntry(entry.message_id)


class RoutingJournal(Protocol):
    async def open(self) -> None:
        """Get ready before the first read: indexes, or the embedded file's exclusive lock
        (which may mean waiting as a standby until another process lets go of it)."""

    async def append(self, entry: JournalEntry) -> None:
        """Store the entry atomically; raise DuplicateEntry if its id or (site, seq) exists."""

    async def append_many(self, entries: Sequence[JournalEntry]) -> None:
        """Store the entries in order with one write (group commit), each entry atomically.

        Raises DuplicateEntry if one's id or (site, seq) exists already (or twice in the batch);
        the entries before it may then be stored (MongoDB) or not (the file): a caller reloads.
        """

    async def get(self, message_id: str) -> JournalEntry | None: ...

    def replay(self) -> AsyncIterator[JournalEntry]:
        """Every entry, per site in sequence order."""
        ...

    async def close(self) -> None: ...


class Publisher(Protocol):
    async def publish(self, message: Message) -> None: ...

    async def publish_delayed(
        self, message: Message, delay_seconds: float, due_in_seconds: float | None = None
    ) -> None:
        """Deliver after `delay_seconds` (or, for a re-armed timer, after `due_in_seconds`)."""


class PartitionedRoutingJournal(RoutingJournal, Protocol):
    """A journal per partition (PARTITIONS > 1): a replica opens those it gets messages of."""

    partitions: int

    async def acquire(self, partition: int) -> None:
        """Open the partition's journal (embedded: wait for its lock) before loading it."""

    async def release(self, partition: int) -> None:
        """Close one partition's journal: it was handed back to its owner."""

    async def release_all(self) -> None:
        """Close every partition's journal: another replica may own them from now on."""

    def replay_partition(self, partition: int) -> AsyncIterator[JournalEntry]:
        """Every entry of one partition held, per site in sequence order."""
        ...
