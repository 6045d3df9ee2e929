"""One contract suite for every session store: in memory, embedded SQLite, and MongoDB (or its
stand-in)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from livechat_shared.contracts import Channel, ChatMessagePosted
from session_service.adapters.mongo_store import MongoSessionStore
from session_service.domain import Session, Status
from session_service.ports import (
    OUTCOMES_KEPT,
    Added,
    Appended,
    DuplicateMessage,
    Outcome,
    Saved,
    SequenceTaken,
    SessionStore,
    StaleSession,
    StoredSession,
    Write,
)

from tests.support.mongo import mongo_kind
from tests.support.sessions import session_store_of

pytestmark = pytest.mark.integration

SITE = "acme"
T0 = datetime(2026, 3, 2, 9, 0, 0, 125000, tzinfo=UTC)  # milliseconds: what stores keep


@pytest.fixture(params=["memory", "sqlite", "mongo"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[SessionStore]:
    if request.param == "mongo":
        print(f"\nMongo session store tests run against: {mongo_kind()}")
    async with session_store_of(request.param) as found:
        yield found


def session(
    visitor: str = "v-ada",
    operator: str = "ann",
    started: float = 0,
    site: str = SITE,
) -> Session:
    return Session(
        session_id=uuid.uuid4(),
        site_id=site,
        visitor_id=visitor,
        operator_id=operator,
        channel=Channel.CHAT,
        started_at=T0 + timedelta(seconds=started),
    )


def message(
    of: Session, seq: int, client_message_id: str | None = None, at: float = 0
) -> ChatMessagePosted:
    return ChatMessagePosted(
        occurred_at=T0 + timedelta(seconds=at),
        correlation_id=f"corr-{seq}",
        site_id=of.site_id,
        session_id=of.session_id,
        seq=seq,
        author="visitor" if seq % 2 else "operator",
        client_message_id=client_message_id or f"c-{seq}",
        text=f"message {seq}",
        visitor_id=of.visitor_id,
        operator_id=of.operator_id,
    )


async def test_a_session_comes_back_whole_and_only_on_its_own_site(store: SessionStore) -> None:
    ada = session()
    assert await store.add(ada)
    stored = await store.get(SITE, ada.session_id)
    assert stored is not None
    assert (stored.session, stored.version, stored.outcomes) == (ada, 1, ())
    assert await store.get("other-site", ada.session_id) is None
    assert await store.get(SITE, uuid.uuid4()) is None


async def test_adding_a_session_again_changes_nothing(store: SessionStore) -> None:
    ada = session()
    await store.add(ada)
    assert not await store.add(replace(ada, operator_id="bob"))
    stored = await store.get(SITE, ada.session_id)
    assert stored is not None and stored.session.operator_id == "ann"


async def test_a_save_writes_the_new_state_and_its_outcome_once(store: SessionStore) -> None:
    ada = session()
    await store.add(ada)
    first = await store.get(SITE, ada.session_id)
    assert first is not None
    ended = replace(
        ada,
        status="ended",
        ended_at=T0 + timedelta(minutes=5),
        ended_by="visitor_gone",
        visitor_gone_since=T0 + timedelta(minutes=4),
    )
    outcome = Outcome("m-1", [{"type": "ChatEnded", "event_id": "e-1"}])
    await store.save(first, ended, outcome)
    second = await store.get(SITE, ada.session_id)
    assert second is not None
    assert (second.session, second.version) == (ended, 2)
    assert second.outcome_of("m-1") == outcome and second.outcome_of("m-2") is None
    with pytest.raises(StaleSession):  # decided on a state that is not the stored one any more
        await store.save(first, ada, Outcome("m-2", []))
    again = await store.get(SITE, ada.session_id)
    assert again == second


async def test_a_save_keeps_the_newest_outcomes_only(store: SessionStore) -> None:
    ada = session()
    await store.add(ada)
    for n in range(OUTCOMES_KEPT + 3):
        stored = await store.get(SITE, ada.session_id)
        assert stored is not None
        await store.save(stored, ada, Outcome(f"m-{n}", []))
    stored = await store.get(SITE, ada.session_id)
    assert stored is not None and len(stored.outcomes) == OUTCOMES_KEPT
    assert stored.outcomes[0].message_id == "m-3"
    assert stored.outcomes[-1].message_id == f"m-{OUTCOMES_KEPT + 2}"


async def test_messages_are_stored_once_per_number_and_per_client_id(store: SessionStore) -> None:
    ada = session()
    await store.add(ada)
    first = message(ada, 1)
    await store.append_message(first)
    assert await store.find_message(SITE, ada.session_id, "c-1") == first
    assert await store.find_message(SITE, ada.session_id, "c-2") is None
    assert await store.find_message("other-site", ada.session_id, "c-1") is None
    with pytest.raises(DuplicateMessage):
        await store.append_message(message(ada, 2, client_message_id="c-1"))
    with pytest.raises(SequenceTaken):
        await store.append_message(message(ada, 1, client_message_id="c-9"))
    assert await store.messages(SITE, ada.session_id, 0, 10) == [first]


async def test_appending_raises_last_seq_and_a_later_save_keeps_it(store: SessionStore) -> None:
    ada = session()
    await store.add(ada)
    read_before = await store.get(SITE, ada.session_id)
    assert read_before is not None
    for seq in (1, 2, 3):
        await store.append_message(message(ada, seq))
    assert await store.highest_seq(SITE, ada.session_id) == 3
    # hold was decided on a read from before the messages: last_seq is not the save's to write
    await store.save(read_before, replace(ada, status="on_hold"), Outcome("hold", []))
    stored = await store.get(SITE, ada.session_id)
    assert stored is not None
    assert (stored.session.status, stored.session.last_seq) == ("on_hold", 3)


async def test_a_transcript_is_read_in_order_after_a_number(store: SessionStore) -> None:
    ada = session()
    await store.add(ada)
    for seq in (3, 1, 5, 2, 4):
        await store.append_message(message(ada, seq))
    assert [m.seq for m in await store.messages(SITE, ada.session_id, 0, 10)] == [1, 2, 3, 4, 5]
    assert [m.seq for m in await store.messages(SITE, ada.session_id, 2, 2)] == [3, 4]
    assert await store.messages(SITE, ada.session_id, 5, 10) == []
    assert await store.messages(SITE, uuid.uuid4(), 0, 10) == []
    assert await store.highest_seq(SITE, uuid.uuid4()) == 0


async def test_a_visitors_session_is_the_open_one_else_the_latest(store: SessionStore) -> None:
    assert await store.visitor_session(SITE, "v-ada") is None
    older = session(started=0)
    newer = replace(session(started=60), status="ended")
    elsewhere = session(started=120, site="other-site")
    for s in (older, newer, elsewhere):
        await store.add(s)
    found = await store.visitor_session(SITE, "v-ada")
    assert found is not None and found.session == older  # open, though newer ones ended
    stored = await store.get(SITE, older.session_id)
    assert stored is not None
    await store.save(stored, replace(older, status="ended"), Outcome("end", []))
    found = await store.visitor_session(SITE, "v-ada")
    assert found is not None and found.session.session_id == newer.session_id


async def test_an_operators_sessions_are_the_open_ones_oldest_first(store: SessionStore) -> None:
    second = replace(session(visitor="v-2", started=20), status="on_hold")
    first = session(visitor="v-1", started=10)
    ended = replace(session(visitor="v-0", started=0), status="ended")
    others = [session(operator="bob"), session(site="other-site")]
    for s in (second, first, ended, *others):
        await store.add(s)
    assert await store.operator_sessions(SITE, "ann") == [first, second]
    assert await store.operator_sessions(SITE, "nobody") == []


async def test_latest_messages_come_newest_first_in_pages(store: SessionStore) -> None:
    ada, bo, cy = session("v-ada"), session("v-bo"), session("v-cy")
    for s in (ada, bo, cy):
        await store.add(s)
    await store.append_message(message(ada, 1, at=1))
    await store.append_message(message(bo, 1, at=2))
    await store.append_message(message(ada, 2, at=3))
    await store.append_message(message(cy, 1, at=4))  # not asked for
    await store.append_message(message(bo, 2, at=4))
    await store.append_message(message(ada, 3, at=4))  # the same instant as bo's 2nd
    await store.append_message(message(bo, 3, at=5))
    ids = [ada.session_id, bo.session_id]
    total, page = await store.latest_messages(SITE, ids, 0, 3)
    assert total == 6
    assert [(m.session_id, m.seq) for m in page] == [
        (bo.session_id, 3),
        (ada.session_id, 3),  # the same instant: the higher number first
        (bo.session_id, 2),
    ]
    total, rest = await store.latest_messages(SITE, ids, 3, 5)
    assert total == 6
    assert [(m.session_id, m.seq) for m in rest] == [
        (ada.session_id, 2),
        (bo.session_id, 1),
        (ada.session_id, 1),
    ]
    assert await store.latest_messages(SITE, ids, 6, 3) == (6, [])
    assert await store.latest_messages(SITE, [], 0, 3) == (0, [])
    assert await store.latest_messages("other-site", ids, 0, 3) == (0, [])


async def test_open_sessions_are_counted_by_site_and_status(store: SessionStore) -> None:
    sessions = [
        session(),
        session(),
        replace(session(), status="on_hold"),
        replace(session(), status="ended"),
        session(site="other-site"),
    ]
    for s in sessions:
        await store.add(s)
    assert dict(await store.count_open(SITE)) == {(SITE, "active"): 2, (SITE, "on_hold"): 1}
    assert dict(await store.count_open()) == {
        (SITE, "active"): 2,
        (SITE, "on_hold"): 1,
        ("other-site", "active"): 1,
    }


async def test_sessions_whose_visitor_is_gone_are_the_open_ones_with_a_gone_time(
    store: SessionStore,
) -> None:
    gone_at = T0 + timedelta(minutes=1)
    connected, gone, gone_and_ended = session("v-1"), session("v-2"), session("v-3")
    elsewhere = session("v-4", site="globex")
    for each in (connected, gone, gone_and_ended, elsewhere):
        await store.add(each)
    statuses: list[tuple[Session, Status]] = [
        (gone, "active"),
        (gone_and_ended, "ended"),
        (elsewhere, "on_hold"),
    ]
    for each, status in statuses:
        stored = await store.get(each.site_id, each.session_id)
        assert stored is not None
        changed = replace(each, status=status, visitor_gone_since=gone_at)
        await store.save(stored, changed, Outcome(f"m-{each.visitor_id}", []))
    found = await store.visitor_gone_sessions()
    assert sorted((s.site_id, s.visitor_id) for s in found) == [("acme", "v-2"), ("globex", "v-4")]
    assert {s.visitor_gone_since for s in found} == {gone_at}


async def test_a_batch_of_writes_is_stored_in_order_as_each_write_would_be(
    store: SessionStore,
) -> None:
    ada, bea = session(), session("v-bea", started=1)
    assert await store.add(bea)
    stored_bea = await store.get(SITE, bea.session_id)
    assert stored_bea is not None
    held = Outcome("m-hold", [{"type": "ChatHeld"}])
    ended = Outcome("m-end", [{"type": "ChatEnded"}])
    await store.write_batch(
        [
            Added(ada),
            Appended(message(ada, 1)),
            Saved(StoredSession(ada, 1), replace(ada, status="on_hold"), held),
            Appended(message(ada, 2)),
            Saved(
                stored_bea, replace(bea, status="ended", ended_at=T0, ended_by="operator"), ended
            ),
        ]
    )
    got_ada, got_bea = await store.get(SITE, ada.session_id), await store.get(SITE, bea.session_id)
    assert got_ada is not None and got_bea is not None
    assert (got_ada.session.status, got_ada.session.last_seq, got_ada.version) == ("on_hold", 2, 2)
    assert got_ada.outcome_of("m-hold") == held
    assert (got_bea.session.status, got_bea.version) == ("ended", 2)
    assert [m.seq for m in await store.messages(SITE, ada.session_id, 0, 10)] == [1, 2]


@pytest.mark.parametrize(
    "conflict", ["stale save", "session stored already", "number taken", "client id taken"]
)
async def test_a_batch_that_conflicts_with_the_store_raises(
    store: SessionStore, conflict: str
) -> None:
    """The embedded and memory stores then store none of it (one transaction); MongoDB may have
    stored a part, which is idempotent to decide again."""
    ada, bea = session(), session("v-bea", started=1)
    assert await store.add(ada)
    await store.append_message(message(ada, 1))
    stored = await store.get(SITE, ada.session_id)
    assert stored is not None
    conflicts: dict[str, Write] = {
        "stale save": Saved(replace(stored, version=7), ada, Outcome("m", [])),
        "session stored already": Added(ada),
        "number taken": Appended(message(ada, 1, client_message_id="other")),
        "client id taken": Appended(message(ada, 3, client_message_id="c-1")),
    }
    bad = conflicts[conflict]
    with pytest.raises((StaleSession, SequenceTaken, DuplicateMessage)):
        await store.write_batch([Added(bea), Appended(message(ada, 2, "c-2")), bad])
    if isinstance(store, MongoSessionStore):
        return
    assert await store.get(SITE, bea.session_id) is None
    assert [m.seq for m in await store.messages(SITE, ada.session_id, 0, 10)] == [1]
    assert await store.get(SITE, ada.session_id) == stored
