"""Check or repair the embedded journal file, with the queue manager stopped.

    python -m queue_manager.journal_tool check PATH
    python -m queue_manager.journal_tool repair PATH [--yes]

`check` lists every line that is not a good entry (exit 1 if start-up would refuse the file).
`repair` moves those lines to a side file beside the journal (`PATH.damaged-<time>`) and keeps
every good entry in order; it only says what it would do unless given `--yes`.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from livechat_shared.contracts import parse_message

from queue_manager.adapters.journal_lines import BadLine, decode, lines, scan
from queue_manager.adapters.journal_lock import JournalLock

CLEAN, DAMAGED, NOT_DONE = 0, 1, 2


def bad_lines(path: Path) -> tuple[list[BadLine], BadLine | None]:
    """Lines start-up refuses (damage, entries that are not contracts), and a torn tail."""
    found = scan(path)
    damaged = list(found.damaged)
    known = {bad.number for bad in damaged}
    for number, offset, line in lines(path):
        if number in known or offset >= found.end:
            continue
        entry = decode(line)
        if found.offsets.get(entry.message_id) != offset:
            continue
        try:
            parse_message(entry.message)
            for event in entry.events:
                parse_message(event)
        except ValueError as error:
            reason = f"not a known contract: {str(error).splitlines()[0]}"
            damaged.append(BadLine(number, offset, reason))
    damaged.sort(key=lambda bad: bad.number)
    return damaged, found.torn_tail


def check(path: Path) -> int:
    damaged, torn = bad_lines(path)
    for bad in damaged:
        print(f"line {bad.number}: {bad.reason}")
    if torn is not None:
        print(f"line {torn.number}: {torn.reason} (a torn write: start-up cuts it)")
    if damaged:
        print(f"{len(damaged)} damaged line(s): the queue manager refuses to start on {path}")
        print(f"move them aside with: python -m queue_manager.journal_tool repair {path} --yes")
        return DAMAGED
    print(f"{path}: no damage")
    return CLEAN


def repair(path: Path, yes: bool) -> int:
    lock = JournalLock(path)
    if not lock.try_acquire():
        print(f"{path} is in use by {lock.holder()}: stop the queue manager first")
        return NOT_DONE
    try:
        damaged, torn = bad_lines(path)
        moving = damaged + ([torn] if torn is not None else [])
        if not moving:
            print(f"{path}: no damage, nothing to do")
            return CLEAN
        side = path.with_name(f"{path.name}.damaged-{datetime.now(UTC):%Y%m%dT%H%M%SZ}")
        for bad in moving:
            print(f"line {bad.number}: {bad.reason}")
        if not yes:
            print(f"would move {len(moving)} line(s) to {side}; run again with --yes to do it")
            return NOT_DONE
        _move_aside(path, side, {bad.number for bad in moving})
        print(f"moved {len(moving)} line(s) to {side}; {path} holds the rest, in order")
        return CLEAN
    finally:
        lock.release()


def _move_aside(path: Path, side: Path, numbers: set[int]) -> None:
    kept = path.with_name(path.name + ".repairing")
    with kept.open("wb") as good, side.open("ab") as bad:
        for number, _, line in lines(path):
            if number in numbers:
                bad.write(line if line.endswith(b"\n") else line + b"\n")
            else:
                good.write(line)
        for f in (good, bad):
            f.flush()
            os.fsync(f.fileno())
    os.replace(kept, path)  # all or nothing: a crash leaves the old file or the new one
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m queue_manager.journal_tool")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("check", help="list damaged lines").add_argument("path", type=Path)
    fix = commands.add_parser("repair", help="move damaged lines to a side file")
    fix.add_argument("path", type=Path)
    fix.add_argument("--yes", action="store_true", help="do it (otherwise only say what)")
    args = parser.parse_args(argv)
    if not args.path.is_file():
        print(f"{args.path}: no such file")
        return NOT_DONE
    if args.command == "check":
        return check(args.path)
    return repair(args.path, args.yes)


if __name__ == "__main__":
    sys.exit(main())
