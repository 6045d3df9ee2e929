"""One contract suite for every routing-journal adapter: memory, embedded file, MongoDB."""

from __future__ import annotations

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
