"""The embedded journal: an append-only JSON-lines file, for running without MongoDB.

Good for one machine with a local disk (development, `make run`); production uses MongoDB. Only
an index (message id -> where its line starts) stays in memory; entries are read from the file.
One process writes it at a time (an exclusive lock): a second one waits as a standby until the
lock is free, then reads the whole file, or refuses to start (`standby=False`).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import BinaryIO

from queue_manager.adapters.journal_lines import decode, encode, lines, scan
from queue_manager.adapters.journal_lock import JournalLock
from queue_manager.ports import JournalEntry, refuse_duplicates

log = logging.getLogger(__name__)

STANDBY_POLL_SECONDS = 0.5


class JournalLocked(RuntimeError):
    """Another process holds the journal and this one was told not to wait."""


class JournalDamaged(RuntimeError):
    """The file holds lines that are not entries (or repeat one) before its end."""


def recovery_hint(path: Path) -> str:
    return (
        f"see `python -m queue_manager.journal_tool check {path}`, then "
        f"`python -m queue_manager.journal_tool repair {path} --yes` to move the bad lines "
        "to a side file (README, operations)"
    )


class FileJournal:
    def __init__(self, path: Path, standby: bool = True) -> None:
        self.path = path
        self.standby = standby
        self._lock = JournalLock(path)
        self._offsets: dict[str, int] = {}  # message id -> where its line starts
        self._seqs: set[tuple[str, int]] = set()
        self._end = 0
        self._file: BinaryIO | None = None

    async def open(self) -> None:
        """Take the lock (waiting as a standby if another process has it), then index the file."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self._lock.try_acquire():
            holder = self._lock.holder()
            if not self.standby:
                raise JournalLocked(
                    f"the journal {self.path} is in use by {holder}; "
                    "one queue manager writes it at a time"
                )
            log.warning(
                "the journal is in use: waiting as a standby until it is free",
                extra={"path": str(self.path), "holder": holder},
            )
            # Polled: a thread blocked in flock could not be cancelled when the process stops.
            while not self._lock.try_acquire():  # noqa: ASYNC110
                await asyncio.sleep(STANDBY_POLL_SECONDS)
            log.warning("took over the journal", extra={"path": str(self.path)})
        try:
            self.path.touch()
            self._index()
        except BaseException:
            self._lock.release()
            raise
        self._file = self.path.open("ab", buffering=0)

    def _index(self) -> None:
        found = scan(self.path)
        if found.damaged:
            first = found.damaged[0]
            raise JournalDamaged(
                f"the journal {self.path} is damaged: line {first.number}: {first.reason} "
                f"({len(found.damaged)} bad line(s) before its end; nothing was changed); "
                + recovery_hint(self.path)
            )
        if found.torn_tail is not None:
            # A crash mid-write: that entry was never acknowledged, its message comes again.
            size = self.path.stat().st_size
            with self.path.open("r+b") as f:
                f.truncate(found.end)
            log.warning(
                "cut a torn last line from the journal",
                extra={
                    "path": str(self.path),
                    "line": found.torn_tail.number,
                    "bytes_cut": size - found.end,
                    "reason": found.torn_tail.reason,
                },
            )
        self._offsets, self._seqs, self._end = found.offsets, found.seqs, found.end

    async def append(self, entry: JournalEntry) -> None:
        await self.append_many([entry])

    async def append_many(self, entries: Sequence[JournalEntry]) -> None:
        """All or nothing: N lines in one write and one fsync (group commit)."""
        refuse_duplicates(entries, self._offsets, self._seqs)
        lines = [encode(entry) for entry in entries]
        await asyncio.to_thread(self._write, b"".join(lines))
        for entry, line in zip(entries, lines, strict=True):
            self._offsets[entry.message_id] = self._end
            self._seqs.add((entry.site_id, entry.seq))
            self._end += len(line)

    def _write(self, data: bytes) -> None:
        if self._file is None:
            raise RuntimeError("the journal is not open")
        fd = self._file.fileno()
        try:
            view = memoryview(data)
            while view:  # unbuffered: nothing of a failed write lingers to go out later
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        except BaseException:
            # Part of the lines may be in the file: cut them, so the next write starts where
            # the index says the file ends (else they would read as damage, or as entries
            # whose messages were never acked).
            os.ftruncate(fd, self._end)
            raise

    async def get(self, message_id: str) -> JournalEntry | None:
        offset = self._offsets.get(message_id)
        if offset is None:
            return None
        with self.path.open("rb") as f:
            f.seek(offset)
            return decode(f.readline())

    async def replay(self) -> AsyncIterator[JournalEntry]:
        """Entries in the order they were written: per site, that is sequence order."""
        for _, offset, line in lines(self.path):
            if offset >= self._end:
                break
            yield decode(line)

    async def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._lock.release()
