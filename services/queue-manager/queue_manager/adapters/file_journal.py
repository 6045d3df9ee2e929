"""The embedded journal: an append-only JSON-lines file, for running without MongoDB.

Good for one process on one disk (development, `make run`); production uses MongoDB.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

from queue_manager.ports import DuplicateEntry, JournalEntry


def _encode(entry: JournalEntry) -> str:
    return json.dumps(
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


def _decode(line: str) -> JournalEntry:
    raw: dict[str, Any] = json.loads(line)
    raw["recorded_at"] = datetime.fromisoformat(raw["recorded_at"])
    return JournalEntry(**raw)


class FileJournal:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._index: dict[str, int] = {}  # message id -> line number
        self._seqs: set[tuple[str, int]] = set()
        self._lines: list[str] = []
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            self._load(path)
        self._file = path.open("a", encoding="utf-8")

    def _load(self, path: Path) -> None:
        good_bytes = 0
        with path.open("rb") as f:
            for raw in f:
                try:
                    line = raw.decode("utf-8").rstrip("\n")
                    entry = _decode(line) if raw.endswith(b"\n") else None
                except (ValueError, TypeError):
                    entry = None
                if entry is None:
                    break  # a torn last line from a crash mid-write: it was never acknowledged
                self._remember(entry, line)
                good_bytes += len(raw)
        with path.open("r+b") as f:
            f.truncate(good_bytes)

    def _remember(self, entry: JournalEntry, line: str) -> None:
        self._index[entry.message_id] = len(self._lines)
        self._seqs.add((entry.site_id, entry.seq))
        self._lines.append(line)

    async def append(self, entry: JournalEntry) -> None:
        if entry.message_id in self._index or (entry.site_id, entry.seq) in self._seqs:
            raise DuplicateEntry(entry.message_id)
        line = _encode(entry)
        await asyncio.to_thread(self._write, line)
        self._remember(entry, line)

    def _write(self, line: str) -> None:
        self._file.write(line + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    async def get(self, message_id: str) -> JournalEntry | None:
        number = self._index.get(message_id)
        return None if number is None else _decode(self._lines[number])

    async def replay(self) -> AsyncIterator[JournalEntry]:
        entries = [_decode(line) for line in self._lines]
        for entry in sorted(entries, key=lambda e: (e.site_id, e.seq)):
            yield entry

    async def close(self) -> None:
        self._file.close()
