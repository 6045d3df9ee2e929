"""A second queue manager takes over from a crashed one without double-assigning anyone.

On the embedded journal the second process waits as a standby (the file's exclusive lock) and
reads the whole journal once it has the lock; on MongoDB it is a hot standby (the input queue's
single active consumer) that catches up when its first write collides. The same audit checks
both: every visitor served once, no visitor offered twice at once, no operator over capacity,
no (site, seq) stored twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from livechat_shared.contracts import (
    AcceptOffer,
    ChatEnded,
    ChatOffered,
    ChatStarted,
    Event,
    OfferDeclined,
    OfferPutBack,
    OfferTimedOut,
    OfferWithdrawn,
    OperatorPresenceChanged,
    Presence,
    SetOperatorPresence,
    VisitorQueued,
    VisitorWaiting,
)
from queue_manager.adapters.file_journal import FileJournal, JournalLocked
from queue_manager.adapters.journal_lines import scan
from queue_manager.adapters.mongo_journal import MongoJournal
from queue_manager.ports import JournalEntry, RoutingJournal

from tests.integration.test_routing_journal import entry
from tests.support.apps import queue_manager_app, routing_of, running
from tests.support.broker import Tap, publish
from tests.support.mongo import fresh_database
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.integration

OPERATORS = 3
CHATS_EACH = 2
VISITORS = 16


class Desk:
    """The operators' side: accept every offer, end every chat soon after it starts."""

    def __init__(self, tap: Tap, site_id: str) -> None:
        self.tap = tap
        self.site_id = site_id
        self._seen: set[object] = set()
        self.ended: set[str] = set()

    async def run(self) -> None:
        read = 0
        while True:
            messages = self.tap.messages[read:]
            read += len(messages)
            for message in messages:
                if not isinstance(message, Event) or message.event_id in self._seen:
                    continue
                self._seen.add(message.event_id)
                if isinstance(message, ChatOffered):
                    await publish(
                        AcceptOffer(
                            site_id=self.site_id,
                            offer_id=message.offer_id,
                            operator_id=message.operator_id,
                        )
                    )
                elif isinstance(message, ChatStarted):
                    await publish(
                        ChatEnded(
                            site_id=self.site_id,
                            session_id=message.session_id,
                            visitor_id=message.visitor_id,
                            operator_id=message.operator_id,
                            channel=message.channel,
                            ended_by="visitor",
                        )
                    )
                    self.ended.add(message.visitor_id)
            await asyncio.sleep(0.02)


def audit(messages: list[Any], visitors: list[str]) -> dict[str, int]:
    """Replay the distinct events in the order seen; count every broken promise."""
    offer_of: dict[str, object] = {}  # visitor -> its open offer
    load: dict[str, int] = defaultdict(int)  # operator -> open offers + chats
    started: dict[str, int] = defaultdict(int)
    offered_twice = over_capacity = 0
    seen: set[object] = set()
    for event in messages:
        if not isinstance(event, Event) or event.event_id in seen:
            continue  # a redelivery republishes the same events: count each once
        seen.add(event.event_id)
        match event:
            case ChatOffered():
                if event.visitor_id in offer_of:
                    offered_twice += 1
                offer_of[event.visitor_id] = event.offer_id
                load[event.operator_id] += 1
                over_capacity += load[event.operator_id] > CHATS_EACH
            case OfferDeclined() | OfferPutBack() | OfferTimedOut() | OfferWithdrawn():
                offer_of.pop(event.visitor_id, None)
                load[event.operator_id] -= 1
            case ChatStarted():
                offer_of.pop(event.visitor_id, None)  # the offer became the chat: same slot
                started[event.visitor_id] += 1
            case ChatEnded():
                load[event.operator_id] -= 1
    return {
        "visitors lost": sum(1 for v in visitors if started[v] == 0),
        "assigned twice": sum(1 for v in visitors if started[v] > 1),
        "offered twice at once": offered_twice,
        "over capacity": over_capacity,
        "stuck offers": len(offer_of),
    }


CLEAN = {
    "visitors lost": 0,
    "assigned twice": 0,
    "offered twice at once": 0,
    "over capacity": 0,
    "stuck offers": 0,
}


async def no_sequence_twice(journal: RoutingJournal) -> None:
    entries: list[JournalEntry] = [e async for e in journal.replay()]
    keys = [(e.site_id, e.seq) for e in entries]
    assert len(keys) == len(set(keys)), "a (site, seq) stored twice"
    assert len({e.message_id for e in entries}) == len(entries), "a message stored twice"


async def operators_online(tap: Tap, site_id: str) -> None:
    for n in range(OPERATORS):
        await publish(
            SetOperatorPresence(site_id=site_id, operator_id=f"op{n}", presence=Presence.ONLINE)
        )
    await tap.wait_for(OperatorPresenceChanged, count=OPERATORS)


# --- the embedded journal: an exclusive lock -------------------------------------------------


async def test_a_second_journal_on_the_same_file_refuses_clearly_or_waits_as_standby(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "journal.jsonl"
    first = FileJournal(path)
    await first.open()
    with pytest.raises(JournalLocked, match=rf"in use by pid {os.getpid()}"):
        await FileJournal(path, standby=False).open()

    standby = FileJournal(path)
    with caplog.at_level(logging.WARNING):
        waiting = asyncio.ensure_future(standby.open())
        for _ in range(100):
            if any("standby" in r.getMessage() for r in caplog.records):
                break
            await asyncio.sleep(0.02)
        assert not waiting.done()
        assert any("waiting as a standby" in r.getMessage() for r in caplog.records)
    # what the first writes before it lets go is what the standby reads
    await first.append(entry("m1"))
    await first.close()
    async with asyncio.timeout(5):
        await waiting
    assert [e.message_id async for e in standby.replay()] == ["m1"]
    await standby.close()


async def test_a_standby_process_takes_over_the_journal_file_from_a_killed_one(
    site_id: str, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.jsonl"
    env = {
        "QUEUE_MANAGER_MAX_CHATS": str(CHATS_EACH),
        "QUEUE_MANAGER_JOURNAL_PATH": str(journal),
        "QUEUE_MANAGER_LOG_LEVEL": "INFO",
    }
    env["MONGO_URL"] = ""  # the embedded journal, even where a MongoDB is configured
    visitors = [f"v{i:02d}" for i in range(VISITORS)]

    def process(name: str) -> ServiceProcess:
        return ServiceProcess("queue_manager", env, tmp_path / f"{name}.log")

    def says(name: str, text: str) -> bool:
        log = tmp_path / f"{name}.log"
        return log.exists() and text in log.read_text()

    async def until(check: Any, within: float = 15.0) -> None:
        for _ in range(int(within / 0.05)):
            if check():
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"not within {within} s")

    async with Tap(site_id) as tap:
        first = await asyncio.to_thread(process("first").start)
        second = process("second").launch()
        desk = Desk(tap, site_id)
        serving = asyncio.ensure_future(desk.run())
        restarted: ServiceProcess | None = None
        try:
            await until(lambda: says("second", "waiting as a standby"))
            await operators_online(tap, site_id)
            for visitor in visitors:
                await publish(VisitorWaiting(site_id=site_id, visitor_id=visitor))
            await tap.wait_for(ChatStarted, count=4, timeout=15)
            first.kill()  # mid-stream: offers pending, chats under way, visitors in flight

            await asyncio.to_thread(second.await_ready, 30)
            await until(lambda: desk.ended >= set(visitors), within=30)
            assert audit(tap.messages, visitors) == CLEAN
            assert scan(journal).damaged == []  # no (site, seq) or message stored twice

            # the killed one starts again: a standby now, then active when the second goes
            restarted = process("first-again").launch()
            await until(lambda: says("first-again", "waiting as a standby"))
            second.kill()
            await asyncio.to_thread(restarted.await_ready, 30)
            await publish(VisitorWaiting(site_id=site_id, visitor_id="late"))
            await tap.wait_for(ChatOffered, lambda o: o.visitor_id == "late")
            await until(lambda: "late" in desk.ended)
            assert audit(tap.messages, [*visitors, "late"]) == CLEAN
            assert len({q.visitor_id for q in tap.of(VisitorQueued)}) == VISITORS + 1
            assert scan(journal).damaged == []
        finally:
            serving.cancel()
            for each in (first, second, restarted):
                if each is not None:
                    each.kill()
    print(f"\nembedded journal takeover: {audit(tap.messages, [*visitors, 'late'])}")


# --- MongoDB: a hot standby ---------------------------------------------------------------


async def crash(app: Any) -> None:
    """Cut the replica's broker connection the way a SIGKILL does: its decisions under way can
    neither publish nor ack; their messages go to the standby."""
    broker = routing_of(app).publisher.broker  # type: ignore[attr-defined]
    consumer = app.state.consumer._connection  # consuming has a connection of its own
    await asyncio.gather(broker._connection.close(), consumer.close())


async def test_a_hot_standby_on_mongodb_takes_over_from_a_crashed_replica(site_id: str) -> None:
    visitors = [f"v{i:02d}" for i in range(VISITORS)]
    async with fresh_database() as database, Tap(site_id) as tap:
        desk = Desk(tap, site_id)
        serving = asyncio.ensure_future(desk.run())
        first_app = queue_manager_app(journal=MongoJournal(database), max_chats=CHATS_EACH)
        second_app = queue_manager_app(journal=MongoJournal(database), max_chats=CHATS_EACH)
        stack = contextlib.AsyncExitStack()
        try:
            first = contextlib.AsyncExitStack()
            await first.enter_async_context(running(first_app))  # the active consumer
            await stack.enter_async_context(running(second_app))  # the standby: second consumer
            await operators_online(tap, site_id)
            for visitor in visitors:
                await publish(VisitorWaiting(site_id=site_id, visitor_id=visitor))
            await tap.wait_for(ChatStarted, count=4, timeout=15)
            await crash(first_app)
            with contextlib.suppress(Exception):
                await first.aclose()  # whatever consumes for it stops too, acking nothing
            for _ in range(600):
                if desk.ended >= set(visitors):
                    break
                await asyncio.sleep(0.05)
            result = audit(tap.messages, visitors)
            print(f"\nMongoDB journal takeover: {result}")
            assert result == CLEAN
            await no_sequence_twice(MongoJournal(database))
        finally:
            serving.cancel()
            await stack.aclose()


async def test_a_standby_waiting_for_the_journal_stops_on_sigterm(tmp_path: Path) -> None:
    env = {
        "QUEUE_MANAGER_JOURNAL_PATH": str(tmp_path / "journal.jsonl"),
        "QUEUE_MANAGER_LOG_LEVEL": "INFO",
        "MONGO_URL": "",
    }
    active = await asyncio.to_thread(
        ServiceProcess("queue_manager", env, tmp_path / "active.log").start
    )
    standby = ServiceProcess("queue_manager", env, tmp_path / "standby.log").launch()
    try:
        log = tmp_path / "standby.log"
        for _ in range(300):
            if log.exists() and "waiting as a standby" in log.read_text():
                break
            await asyncio.sleep(0.05)
        assert standby.process is not None
        standby.process.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(standby.process.wait, 10)
        assert code != 0 and "stopped while waiting to start" in log.read_text()
    finally:
        standby.kill()
        active.stop()
