"""The embedded journal: an append-only JSON-lines file, for running without MongoDB.

Good for one process on one disk (development, `make run`); production uses MongoDB. Only an
index (message id -> where its line starts) stays in memory; entries are read from the file.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from queue_manager.ports import DuplicateEntry, JournalEntry


def _encode(entry: JournalEntry) -> bytes:
    line = json.dumps(
        {
            "message_id": entry.message_id,
            "site_id": entry.site_id,
            "seq": entry.seq,
            "recorded_at": entry.recorded_at.isoformat(),
            "message": entry.message,
            "events": entry.events,
        },
        separators=(",", ":"),
    )
    return line.encode() + b"\n"


def _decode(line: bytes) -> JournalEntry:
    raw: dict[str, Any] = json.loads(line)
    raw["recorded_at"] = datetime.fromisoformat(raw["recorded_at"])
    return JournalEntry(**raw)


class FileJournal:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._offsets: dict[str, int] = {}  # message id -> where its line starts
        self._seqs: set[tuple[str, int]] = set()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
        self._end = self._index()
        self._file = path.open("ab")

    def _lines(self) -> Iterator[tuple[int, bytes]]:
        offset = 0
        with self.path.open("rb") as f:
            for line in f:
                yield offset, line
                offset += len(line)

    def _index(self) -> int:
        """Index the file; cut a torn last line (a crash mid-write: it was never acknowledged)."""
        end = 0
        for offset, line in self._lines():
            try:
                entry = _decode(line) if line.endswith(b"\n") else None
            except (ValueError, TypeError):
                entry = None
            if entry is None:
                break
            self._offsets[entry.message_id] = offset
            self._seqs.add((entry.site_id, entry.seq))
            end = offset + len(line)
        with self.path.open("r+b") as f:
            f.truncate(end)
        return end

    async def append(self, entry: JournalEntry) -> None:
        if entry.message_id in self._offsets or (entry.site_id, entry.seq) in self._seqs:
            raise DuplicateEntry(entry.message_id)
        line = _encode(entry)
        await asyncio.to_thread(self._write, line)
        self._offsets[entry.message_id] = self._end
        self._seqs.add((entry.site_id, entry.seq))
        self._end += len(line)

    def _write(self, line: bytes) -> None:
        self._file.write(line)
        self._file.flush()
        os.fsync(self._file.fileno())

    async def get(self, message_id: str) -> JournalEntry | None:
        offset = self._offsets.get(message_id)
        if offset is None:
            return None
        with self.path.open("rb") as f:
            f.seek(offset)
            return _decode(f.readline())

    async def replay(self) -> AsyncIterator[JournalEntry]:
        """Entries in the order they were written: per site, that is sequence order."""
        for offset, line in self._lines():
            if offset >= self._end:
                break
            yield _decode(line)

    async def close(self) -> None:
        self._file.close()
