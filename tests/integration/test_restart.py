"""A restarted queue manager loses no waiting visitor and double-assigns none."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from livechat_shared.contracts import (
    AcceptOffer,
    ChatEnded,
    ChatOffered,
    ChatStarted,
    OperatorPresenceChanged,
    Presence,
    SetOperatorPresence,
    VisitorQueued,
    VisitorWaiting,
)
from queue_manager.adapters.memory_journal import MemoryJournal

from tests.support.apps import queue_manager_app, running
from tests.support.broker import Tap, publish
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.integration


def distinct(offers: list[ChatOffered]) -> list[ChatOffered]:
    """Redeliveries after a crash republish the same events (same ids); count each once."""
    seen: dict[object, ChatOffered] = {}
    for offer in offers:
        seen.setdefault(offer.event_id, offer)
    return list(seen.values())


async def serve_everyone(tap: Tap, site_id: str, visitors: list[str]) -> None:
    """Accept and end chats one by one; each end must bring the next visitor in order."""
    for expected in visitors:

        def offered_to(o: ChatOffered, v: str = expected) -> bool:
            return o.visitor_id == v

        def started_for(s: ChatStarted, v: str = expected) -> bool:
            return s.visitor_id == v

        [offer] = await tap.wait_for(ChatOffered, offered_to)
        await publish(
            AcceptOffer(site_id=site_id, offer_id=offer.offer_id, operator_id=offer.operator_id)
        )
        [started] = await tap.wait_for(ChatStarted, started_for)
        await publish(
            ChatEnded(
                site_id=site_id,
                session_id=started.session_id,
                visitor_id=expected,
                operator_id=started.operator_id,
                channel=started.channel,
                ended_by="visitor",
            )
        )


async def test_an_in_process_restart_resumes_the_queue(site_id: str) -> None:
    journal = MemoryJournal()
    visitors = [f"v{i}" for i in range(5)]
    async with Tap(site_id) as tap:
        async with running(queue_manager_app(journal=journal, max_chats=1)):
            await publish(
                SetOperatorPresence(site_id=site_id, operator_id="ann", presence=Presence.ONLINE)
            )
            for visitor in visitors:
                await publish(VisitorWaiting(site_id=site_id, visitor_id=visitor))
            await tap.wait_for(VisitorQueued, count=5)
        async with running(queue_manager_app(journal=journal, max_chats=1)):
            await serve_everyone(tap, site_id, visitors)
        offers = distinct(tap.of(ChatOffered))
        assert [o.visitor_id for o in offers] == visitors


async def test_a_killed_queue_manager_process_loses_no_visitor(
    site_id: str, tmp_path: Path
) -> None:
    """Across processes: SIGKILL mid-stream, start again on the same store.

    The store is MongoDB when MONGO_URL is set, else the embedded journal file.
    """
    env = {
        "QUEUE_MANAGER_MAX_CHATS": "1",
        "QUEUE_MANAGER_JOURNAL_PATH": str(tmp_path / "journal.jsonl"),
        "QUEUE_MANAGER_LOG_LEVEL": "WARNING",
    }
    if os.environ.get("MONGO_URL"):
        env["MONGO_DATABASE"] = f"livechat_restart_{site_id.replace('-', '_')}"
    visitors = [f"v{i}" for i in range(8)]
    log = tmp_path / "queue-manager.log"
    async with Tap(site_id) as tap:
        first = ServiceProcess("queue_manager", env, log)
        await asyncio.to_thread(first.start)
        try:
            await publish(
                SetOperatorPresence(site_id=site_id, operator_id="ann", presence=Presence.ONLINE)
            )
            await tap.wait_for(OperatorPresenceChanged)
            for visitor in visitors:
                await publish(VisitorWaiting(site_id=site_id, visitor_id=visitor))
            await tap.wait_for(VisitorQueued, count=4)  # kill it while the rest are in flight
        finally:
            first.kill()

        second = ServiceProcess("queue_manager", env, log)
        await asyncio.to_thread(second.start)
        try:
            await tap.wait_for(VisitorQueued, count=len(visitors), timeout=15)
            await serve_everyone(tap, site_id, visitors)
        finally:
            second.stop()
    offers = distinct(tap.of(ChatOffered))
    assert [o.visitor_id for o in offers] == visitors, "each visitor offered once, in order"
    assert len({q.visitor_id for q in tap.of(VisitorQueued)}) == len(visitors)
