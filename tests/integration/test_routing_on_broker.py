"""The queue manager on the real RabbitMQ: offers pushed in the right order, at once."""

from __future__ import annotations

import asyncio
import time

import pytest
from livechat_shared.contracts import (
    AcceptOffer,
    ChatEnded,
    ChatOffered,
    ChatStarted,
    CommandRejected,
    DeclineOffer,
    OfferTimedOut,
    OperatorPresenceChanged,
    Presence,
    SetOperatorPresence,
    VisitorRequeued,
    VisitorWaiting,
)

from tests.support.apps import queue_manager_app, running
from tests.support.broker import Tap, publish

pytestmark = pytest.mark.integration


async def online(site_id: str, *operators: str) -> None:
    for operator in operators:
        await publish(
            SetOperatorPresence(site_id=site_id, operator_id=operator, presence=Presence.ONLINE)
        )


async def test_two_operators_six_visitors_then_a_freed_operator_gets_the_longest_waiting(
    site_id: str,
) -> None:
    async with Tap(site_id) as tap, running(queue_manager_app(max_chats=2)):
        await online(site_id, "ann", "bob")
        await tap.wait_for(OperatorPresenceChanged, count=2)
        for i in range(6):
            await publish(VisitorWaiting(site_id=site_id, visitor_id=f"v{i}"))
        offers = await tap.wait_for(ChatOffered, count=4)
        assert [(o.visitor_id, o.operator_id) for o in offers] == [
            ("v0", "ann"),
            ("v1", "bob"),
            ("v2", "ann"),
            ("v3", "bob"),
        ]
        for offer in offers:
            await publish(
                AcceptOffer(site_id=site_id, offer_id=offer.offer_id, operator_id=offer.operator_id)
            )
        started = await tap.wait_for(ChatStarted, count=4)
        await asyncio.sleep(0.2)
        assert len(tap.of(ChatOffered)) == 4  # v4 and v5 wait: both operators are full

        bobs = next(s for s in started if s.operator_id == "bob")
        ended_at = time.monotonic()
        await publish(
            ChatEnded(
                site_id=site_id,
                session_id=bobs.session_id,
                visitor_id=bobs.visitor_id,
                operator_id="bob",
                channel=bobs.channel,
                ended_by="operator",
            )
        )
        [next_offer] = await tap.wait_for(ChatOffered, lambda o: o.visitor_id == "v4", timeout=1.0)
        assert time.monotonic() - ended_at < 1.0
        assert next_offer.operator_id == "bob"


async def test_a_declined_visitor_goes_to_the_other_operator_keeping_its_time(site_id: str) -> None:
    async with Tap(site_id) as tap, running(queue_manager_app(max_chats=1)):
        await online(site_id, "ann")
        await tap.wait_for(OperatorPresenceChanged)
        await publish(VisitorWaiting(site_id=site_id, visitor_id="v0"))
        [offer] = await tap.wait_for(ChatOffered)
        await online(site_id, "bob")
        await tap.wait_for(OperatorPresenceChanged, count=2)
        await publish(DeclineOffer(site_id=site_id, offer_id=offer.offer_id, operator_id="ann"))
        [requeued] = await tap.wait_for(VisitorRequeued)
        assert requeued.waiting_since == offer.waiting_since
        [again] = await tap.wait_for(ChatOffered, lambda o: o.operator_id == "bob")
        assert again.visitor_id == "v0"


async def test_an_unanswered_offer_times_out_through_the_broker(site_id: str) -> None:
    async with Tap(site_id) as tap, running(queue_manager_app(offer_timeout_seconds=0.5)):
        await online(site_id, "ann", "bob")
        await tap.wait_for(OperatorPresenceChanged, count=2)
        await publish(VisitorWaiting(site_id=site_id, visitor_id="v0"))
        [first] = await tap.wait_for(ChatOffered)
        [timed_out] = await tap.wait_for(OfferTimedOut, timeout=10)
        assert timed_out.offer_id == first.offer_id
        [away] = await tap.wait_for(OperatorPresenceChanged, lambda p: p.presence is Presence.AWAY)
        assert away.operator_id == first.operator_id and away.reason == "offer_timed_out"
        [second] = await tap.wait_for(ChatOffered, lambda o: o.offer_id != first.offer_id)
        assert second.visitor_id == "v0" and second.operator_id != first.operator_id


async def test_an_answer_to_a_stale_offer_is_rejected_with_a_reason(site_id: str) -> None:
    async with Tap(site_id) as tap, running(queue_manager_app()):
        await online(site_id, "ann")
        await publish(VisitorWaiting(site_id=site_id, visitor_id="v0"))
        [offer] = await tap.wait_for(ChatOffered)
        await publish(AcceptOffer(site_id=site_id, offer_id=offer.offer_id, operator_id="ann"))
        await publish(AcceptOffer(site_id=site_id, offer_id=offer.offer_id, operator_id="ann"))
        [rejected] = await tap.wait_for(CommandRejected)
        assert "no longer pending" in rejected.reason
        assert len(tap.of(ChatStarted)) == 1
