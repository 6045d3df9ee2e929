"""A damaged embedded journal: a torn tail is cut (and logged), anything else stops start-up.

Nothing valid is ever dropped silently: damage before the end names its line and the recovery
command, and `journal_tool repair --yes` moves only the bad lines to a side file.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from livechat_shared.contracts import Channel, VisitorQueued, VisitorWaiting
from queue_manager.adapters.file_journal import FileJournal, JournalDamaged
from queue_manager.adapters.journal_lines import encode
from queue_manager.domain import RoutingPolicy
from queue_manager.handlers import RoutingService
from queue_manager.journal_tool import main as journal_tool
from queue_manager.ports import JournalEntry

from tests.support.apps import queue_manager_app, running
from tests.unit.queue_manager.test_routing_service import RecordingPublisher

pytestmark = pytest.mark.integration

SITE = "acme"
T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def entry(n: int) -> JournalEntry:
    """Visitor v<n> starts waiting: a real decision, so replaying it rebuilds a queue."""
    at = T0 + timedelta(seconds=n)
    waiting = VisitorWaiting(site_id=SITE, visitor_id=f"v{n}", occurred_at=at)
    queued = VisitorQueued(
        site_id=SITE, visitor_id=f"v{n}", channel=Channel.CHAT, waiting_since=at, occurred_at=at
    )
    return JournalEntry(
        message_id=str(waiting.message_id),
        site_id=SITE,
        seq=n,
        recorded_at=at,
        message=waiting.model_dump(mode="json"),
        events=[queued.model_dump(mode="json")],
    )


def journal_file(tmp_path: Path, count: int = 60) -> Path:
    path = tmp_path / "journal.jsonl"
    path.write_bytes(b"".join(encode(entry(n)) for n in range(1, count + 1)))
    return path


def replace_line(path: Path, number: int, new: bytes) -> None:
    lines = path.read_bytes().splitlines(keepends=True)
    lines[number - 1] = new
    path.write_bytes(b"".join(lines))


async def waiting_after_load(path: Path) -> list[str]:
    journal = FileJournal(path)
    await journal.open()
    try:
        routing = RoutingService(journal, RecordingPublisher(), RoutingPolicy(), lambda: T0)
        await routing.load()
        return routing.site(SITE).head(Channel.CHAT)
    finally:
        await journal.close()


async def test_an_incomplete_last_line_is_cut_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = journal_file(tmp_path, 10)
    with path.open("ab") as f:
        f.write(encode(entry(11))[:40])  # a crash in the middle of a write
    with caplog.at_level(logging.WARNING):
        assert len(await waiting_after_load(path)) == 10
    [cut] = [r for r in caplog.records if "torn" in r.getMessage()]
    assert cut.__dict__["line"] == 11 and cut.__dict__["bytes_cut"] == 40
    assert path.read_bytes().endswith(b"\n") and len(path.read_bytes().splitlines()) == 10


async def test_an_undecodable_last_line_is_cut_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = journal_file(tmp_path, 10)
    with path.open("ab") as f:
        f.write(b'{"message_id": "m\x00\x00\x00\n')
    with caplog.at_level(logging.WARNING):
        assert len(await waiting_after_load(path)) == 10
    assert any("torn" in r.getMessage() for r in caplog.records)


async def test_a_last_line_of_valid_json_but_the_wrong_shape_stops_start_up_with_its_line(
    tmp_path: Path,
) -> None:
    path = journal_file(tmp_path, 10)
    with path.open("ab") as f:
        f.write(json.dumps({"message_id": "m", "site_id": SITE}).encode() + b"\n")
    before = path.read_bytes()
    with pytest.raises(JournalDamaged, match=r"line 11: not an entry's shape.*journal_tool"):
        await waiting_after_load(path)
    assert path.read_bytes() == before  # nothing cut


async def test_one_corrupt_byte_in_a_middle_line_stops_start_up_and_drops_nothing(
    tmp_path: Path,
) -> None:
    path = journal_file(tmp_path, 60)
    data = bytearray(path.read_bytes())
    line_31 = sum(len(line) for line in data.splitlines(keepends=True)[:30])
    data[line_31 + 5] = 0xFF  # one byte, not even UTF-8
    path.write_bytes(bytes(data))
    with pytest.raises(JournalDamaged, match=r"line 31: not valid JSON"):
        await waiting_after_load(path)
    assert path.read_bytes() == bytes(data)  # all 60 lines still there


async def test_an_entry_repeating_a_sequence_number_stops_start_up(tmp_path: Path) -> None:
    path = journal_file(tmp_path, 20)
    twin = entry(7)
    repeated = JournalEntry(**{**twin.__dict__, "message_id": "someone-else"})
    replace_line(path, 12, encode(repeated))
    with pytest.raises(JournalDamaged, match=r"line 12: repeats seq 7 of site acme"):
        await waiting_after_load(path)


async def test_an_entry_that_is_not_a_contract_stops_start_up_naming_it(tmp_path: Path) -> None:
    path = journal_file(tmp_path, 20)
    bad = entry(9)
    replace_line(path, 9, encode(JournalEntry(**{**bad.__dict__, "events": [{"type": "Nope"}]})))
    with pytest.raises(RuntimeError, match=r"site acme, seq 9\) cannot be replayed"):
        await waiting_after_load(path)
    assert journal_tool(["check", str(path)]) == 1


async def test_the_queue_manager_does_not_start_on_a_damaged_journal(tmp_path: Path) -> None:
    path = journal_file(tmp_path, 60)
    replace_line(path, 31, b"{not json}\n")
    app = queue_manager_app(journal=FileJournal(path))
    with pytest.raises(JournalDamaged, match="line 31"):
        async with running(app):
            pass


async def test_repair_moves_only_the_bad_lines_aside_once_confirmed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = journal_file(tmp_path, 60)
    replace_line(path, 31, b'{"message_id": "m", "sit\xff\n')
    replace_line(path, 45, b'{"surprise": true}\n')
    with path.open("ab") as f:
        f.write(b'{"message_id": "half-wr')
    damaged = path.read_bytes()

    assert journal_tool(["check", str(path)]) == 1
    report = capsys.readouterr().out
    assert "line 31: not valid JSON" in report and "line 45: not an entry's shape" in report
    assert "line 61: incomplete last line" in report

    assert journal_tool(["repair", str(path)]) == 2  # without --yes: only says what it would do
    assert path.read_bytes() == damaged

    assert journal_tool(["repair", str(path), "--yes"]) == 0
    [side] = [tmp_path / name for name in os.listdir(tmp_path) if ".damaged-" in name]
    assert side.read_bytes().splitlines() == [
        b'{"message_id": "m", "sit\xff',
        b'{"surprise": true}',
        b'{"message_id": "half-wr',
    ]
    assert journal_tool(["check", str(path)]) == 0
    kept = [f"v{n}" for n in range(1, 61) if n not in (31, 45)]
    assert await waiting_after_load(path) == kept


async def test_repair_refuses_while_a_queue_manager_holds_the_journal(tmp_path: Path) -> None:
    path = journal_file(tmp_path, 5)
    running_one = FileJournal(path)
    await running_one.open()
    try:
        assert journal_tool(["repair", str(path), "--yes"]) == 2
    finally:
        await running_one.close()
