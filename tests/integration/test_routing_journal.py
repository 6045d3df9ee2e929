"""One contract suite for every routing-journal adapter: memory, embedded file, MongoDB."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from queue_manager.adapters.file_journal import FileJournal
from queue_manager.ports import DuplicateEntry, JournalEntry, RoutingJournal

from tests.support.journals import journal_of
from tests.support.mongo import mongo_kind

pytestmark = pytest.mark.integration


def entry(message_id: str, site: str = "a", seq: int = 1) -> JournalEntry:
    return JournalEntry(
        message_id=message_id,
        site_id=site,
        seq=seq,
        recorded_at=datetime(2026, 1, 1, 12, 0, tzinfo=UTC),
        message={"type": "VisitorWaiting", "visitor_id": message_id},
        events=[{"type": "VisitorQueued", "n": 1}, {"type": "ChatOffered", "n": 2}],
    )


@pytest.fixture(params=["memory", "file", "mongo"])
async def journal(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    if request.param == "mongo":
        print(f"\nMongo journal tests run against: {mongo_kind()}")
    async with journal_of(request.param, tmp_path) as j:
        yield j


async def replayed(journal: RoutingJournal) -> list[JournalEntry]:
    return [e async for e in journal.replay()]


async def test_an_entry_comes_back_whole(journal: RoutingJournal) -> None:
    stored = entry("m1")
    await journal.append(stored)
    assert await journal.get("m1") == stored
    assert await journal.get("missing") is None


async def test_the_same_message_is_stored_once(journal: RoutingJournal) -> None:
    await journal.append(entry("m1"))
    with pytest.raises(DuplicateEntry):
        await journal.append(entry("m1", seq=2))
    assert [e.message_id for e in await replayed(journal)] == ["m1"]


async def test_two_decisions_cannot_claim_one_sequence_number(journal: RoutingJournal) -> None:
    await journal.append(entry("m1", seq=1))
    with pytest.raises(DuplicateEntry):
        await journal.append(entry("m2", seq=1))


async def test_replay_gives_each_site_its_decisions_in_sequence_order(
    journal: RoutingJournal,
) -> None:
    # The routing service appends each site's decisions in sequence, sites interleaved.
    for message_id, site, seq in [("a1", "a", 1), ("b1", "b", 1), ("b2", "b", 2), ("a2", "a", 2)]:
        await journal.append(entry(message_id, site, seq))
    entries = await replayed(journal)
    assert sorted(e.message_id for e in entries) == ["a1", "a2", "b1", "b2"]
    for site in ("a", "b"):
        assert [e.seq for e in entries if e.site_id == site] == [1, 2]


async def test_a_batch_is_stored_in_order_and_each_entry_comes_back_whole(
    journal: RoutingJournal,
) -> None:
    batch = [entry("a1", "a", 1), entry("b1", "b", 1), entry("a2", "a", 2)]
    await journal.append_many(batch)
    for stored in batch:
        assert await journal.get(stored.message_id) == stored
    entries = await replayed(journal)
    assert [e.seq for e in entries if e.site_id == "a"] == [1, 2]
    await journal.append_many([entry("a3", "a", 3)])
    assert len(await replayed(journal)) == 4


async def test_a_batch_with_a_stored_id_raises_and_stores_nothing_after_it(
    journal: RoutingJournal,
) -> None:
    await journal.append(entry("m1", seq=1))
    with pytest.raises(DuplicateEntry):
        await journal.append_many([entry("m2", seq=2), entry("m1", seq=3), entry("m4", seq=4)])
    stored = [e.message_id for e in await replayed(journal)]
    # the file and memory journals store all or nothing; MongoDB what came before
    assert stored in (["m1"], ["m1", "m2"])
    assert await journal.get("m4") is None


async def test_a_failed_file_write_leaves_no_part_of_the_batch_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "journal.jsonl"
    journal = FileJournal(path)
    await journal.open()
    await journal.append(entry("m1"))
    real_fsync = os.fsync

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError):
        await journal.append_many([entry("m2", seq=2), entry("m3", seq=3)])
    monkeypatch.setattr(os, "fsync", real_fsync)
    await journal.append(entry("m4", seq=2))
    await journal.close()
    reopened = FileJournal(path)
    await reopened.open()
    assert [e.message_id for e in await replayed(reopened)] == ["m1", "m4"]
    await reopened.close()


async def test_the_file_journal_survives_reopening_and_a_torn_last_line(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    first = FileJournal(path)
    await first.open()
    await first.append(entry("m1"))
    await first.close()
    with path.open("a") as f:
        f.write('{"message_id": "half-writ')  # a crash in the middle of a write
    second = FileJournal(path)
    await second.open()
    assert [e.message_id for e in await replayed(second)] == ["m1"]
    with pytest.raises(DuplicateEntry):
        await second.append(entry("m1", seq=5))
    await second.append(entry("m2", seq=2))
    await second.close()
    third = FileJournal(path)
    await third.open()
    assert [e.message_id for e in await replayed(third)] == ["m1", "m2"]
    await third.close()
