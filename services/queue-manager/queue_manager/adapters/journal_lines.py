"""The embedded journal's file format: one JSON object per line, and what a scan finds in a file.

A scan tells a torn tail (the last line of a write cut short by a crash: it was never
acknowledged, so cutting it loses nothing) from damage anywhere else (a line that is not an
entry, or repeats one): damage is never cut silently, it stops start-up until someone repairs it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from queue_manager.ports import JournalEntry

_FIELDS = {"message_id", "site_id", "seq", "recorded_at", "message", "events"}


class NotAnEntry(ValueError):
    """A line that is not a journal entry; says why."""


def encode(entry: JournalEntry) -> bytes:
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


def decode(line: bytes) -> JournalEntry:
    """The entry on this line; NotAnEntry if it is not valid JSON of an entry's shape."""
    try:
        raw: Any = json.loads(line)
    except ValueError as error:  # UnicodeDecodeError included
        raise NotAnEntry(f"not valid JSON ({error})") from error
    if not isinstance(raw, dict) or set(raw) != _FIELDS:
        found = sorted(raw) if isinstance(raw, dict) else type(raw).__name__
        raise NotAnEntry(f"not an entry's shape (fields {found})")
    if not (isinstance(raw["message_id"], str) and isinstance(raw["site_id"], str)):
        raise NotAnEntry("message_id and site_id must be strings")
    if type(raw["seq"]) is not int or raw["seq"] < 1:
        raise NotAnEntry(f"seq must be a positive integer, not {raw['seq']!r}")
    if not isinstance(raw["message"], dict) or not isinstance(raw["events"], list):
        raise NotAnEntry("message must be an object and events a list")
    if not all(isinstance(event, dict) for event in raw["events"]):
        raise NotAnEntry("every event must be an object")
    try:
        recorded_at = datetime.fromisoformat(raw["recorded_at"])
    except (TypeError, ValueError) as error:
        raise NotAnEntry(f"recorded_at is not a date ({error})") from error
    if recorded_at.tzinfo is None:
        raise NotAnEntry("recorded_at has no time zone")
    return JournalEntry(**{**raw, "recorded_at": recorded_at})


@dataclass(frozen=True)
class BadLine:
    number: int
    """1-based, as editors and `sed -n` count."""
    offset: int
    reason: str


@dataclass
class Scan:
    """What a file holds: its good entries, and what is wrong with the rest."""

    offsets: dict[str, int] = field(default_factory=dict)
    """Message id -> where its line starts."""
    seqs: set[tuple[str, int]] = field(default_factory=set)
    entries: int = 0
    end: int = 0
    """Where the good part ends: the file's size once a torn tail is cut."""
    torn_tail: BadLine | None = None
    damaged: list[BadLine] = field(default_factory=list)


def lines(path: Path) -> Iterator[tuple[int, int, bytes]]:
    """(line number, offset, bytes) of every line, the last one with or without its newline."""
    offset = 0
    with path.open("rb") as f:
        for number, line in enumerate(f, start=1):
            yield number, offset, line
            offset += len(line)


def scan(path: Path) -> Scan:
    found = Scan()
    pending_last: BadLine | None = None  # a bad line that is the torn tail if nothing follows
    for number, offset, line in lines(path):
        if pending_last is not None:
            found.damaged.append(pending_last)
            pending_last = None
        if not line.endswith(b"\n"):
            # Only the last line can lack its newline: a write cut short.
            found.torn_tail = BadLine(number, offset, "incomplete last line (no newline)")
            return found
        try:
            entry = decode(line)
        except NotAnEntry as error:
            if _looks_torn(line):
                pending_last = BadLine(number, offset, str(error))
            else:
                found.damaged.append(BadLine(number, offset, str(error)))
            found.end = offset + len(line)
            continue
        if entry.message_id in found.offsets:
            found.damaged.append(BadLine(number, offset, f"repeats message {entry.message_id}"))
        elif (entry.site_id, entry.seq) in found.seqs:
            found.damaged.append(
                BadLine(number, offset, f"repeats seq {entry.seq} of site {entry.site_id}")
            )
        else:
            found.offsets[entry.message_id] = offset
            found.seqs.add((entry.site_id, entry.seq))
            found.entries += 1
        found.end = offset + len(line)
    if pending_last is not None:
        found.torn_tail = pending_last
        found.end = pending_last.offset
    return found


def _looks_torn(line: bytes) -> bool:
    """A line that is not even JSON may be a torn write (if last); valid JSON never is."""
    try:
        json.loads(line)
    except ValueError:
        return True
    return False
