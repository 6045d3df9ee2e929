"""The auditor's own rules, on hand-made event sequences: each check can fail, and only when the
events show the broken promise (no broker needed)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from livechat_shared.contracts import Channel, Presence
from livechat_shared.contracts import events as e

from tests.faults.auditor import CHATTING, ENDED, LEFT, WAITING, Auditor, Truth

pytestmark = pytest.mark.faults

SITE = "acme"
NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def auditor(*events: e.Event) -> Auditor:
    audit = Auditor("amqp://unused", max_chats=2, max_calls=1)
    for event in events:
        audit.apply(event)
    return audit


def online(operator: str) -> e.OperatorPresenceChanged:
    return e.OperatorPresenceChanged(site_id=SITE, operator_id=operator, presence=Presence.ONLINE)


def queued(visitor: str, channel: Channel = Channel.CHAT) -> e.VisitorQueued:
    return e.VisitorQueued(site_id=SITE, visitor_id=visitor, channel=channel, waiting_since=NOW)


def offered(visitor: str, operator: str, offer: uuid.UUID | None = None) -> e.ChatOffered:
    return e.ChatOffered(
        site_id=SITE,
        offer_id=offer or uuid.uuid4(),
        visitor_id=visitor,
        operator_id=operator,
        channel=Channel.CHAT,
        waiting_since=NOW,
        expires_at=NOW + timedelta(seconds=4),
    )


def started(offer: e.ChatOffered) -> e.ChatStarted:
    return e.ChatStarted(
        site_id=SITE,
        session_id=offer.offer_id,
        visitor_id=offer.visitor_id,
        operator_id=offer.operator_id,
        channel=Channel.CHAT,
        waited_seconds=1.0,
    )


def ended(start: e.ChatStarted) -> e.ChatEnded:
    return e.ChatEnded(
        site_id=SITE,
        session_id=start.session_id,
        visitor_id=start.visitor_id,
        operator_id=start.operator_id,
        channel=Channel.CHAT,
        ended_by="operator",
    )


def test_a_served_visitor_is_neither_double_nor_over_capacity() -> None:
    offer = offered("v1", "ann")
    audit = auditor(online("ann"), queued("v1"), offer, started(offer), ended(started(offer)))
    assert audit.status(SITE, "v1") == ENDED
    assert audit.double == [] and audit.over_capacity == []


def test_a_visitor_offered_to_two_operators_at_once_is_double() -> None:
    audit = auditor(queued("v1"), offered("v1", "ann"), offered("v1", "bob"))
    assert len(audit.double) == 1


def test_a_visitor_started_twice_is_double_even_after_the_first_chat_ended() -> None:
    first, second = offered("v1", "ann"), offered("v1", "bob")
    audit = auditor(queued("v1"), first, started(first), ended(started(first)))
    audit.apply(second)
    audit.apply(started(second))
    assert len(audit.double) == 1  # the second start; the offer alone was after the first ended


def test_an_offer_beyond_the_maximum_is_over_capacity_and_an_ended_chat_frees_its_slot() -> None:
    a, b = offered("v1", "ann"), offered("v2", "ann")
    audit = auditor(online("ann"), a, started(a), b, started(b), ended(started(a)))
    audit.apply(offered("v3", "ann"))
    assert audit.over_capacity == []
    audit.apply(offered("v4", "ann"))
    assert len(audit.over_capacity) == 1


def test_an_offer_nobody_closed_long_after_it_expired_is_stuck() -> None:
    offer = offered("v1", "ann")
    audit = auditor(queued("v1"), offer)
    assert audit.stuck(NOW + timedelta(seconds=10), grace=timedelta(seconds=15)) == []
    assert len(audit.stuck(NOW + timedelta(seconds=30), grace=timedelta(seconds=15))) == 1
    audit.apply(
        e.OfferTimedOut(site_id=SITE, offer_id=offer.offer_id, visitor_id="v1", operator_id="ann")
    )
    audit.apply(
        e.VisitorRequeued(
            site_id=SITE,
            visitor_id="v1",
            channel=Channel.CHAT,
            waiting_since=NOW,
            reason="timed_out",
        )
    )
    assert audit.stuck(NOW + timedelta(seconds=30), grace=timedelta(seconds=15)) == []
    assert audit.status(SITE, "v1") == WAITING


def test_a_visitor_whose_offer_closed_without_requeueing_is_not_in_any_accounted_state() -> None:
    offer = offered("v1", "ann")
    audit = auditor(queued("v1"), offer)
    audit.apply(
        e.OfferDeclined(site_id=SITE, offer_id=offer.offer_id, visitor_id="v1", operator_id="ann")
    )
    assert audit.status(SITE, "v1") not in (WAITING, CHATTING, ENDED, LEFT)
    audit.apply(
        e.VisitorAbandoned(site_id=SITE, visitor_id="v1", channel=Channel.CHAT, waited_seconds=2)
    )
    assert audit.status(SITE, "v1") == LEFT


def test_the_truth_counts_waiting_per_channel_chats_in_progress_and_operators_online() -> None:
    offer = offered("v1", "ann")
    audit = auditor(
        online("ann"),
        online("bob"),
        queued("v1"),
        offer,
        started(offer),
        queued("v2"),
        queued("v3", Channel.CALL),
        queued("v4"),
        offered("v4", "bob"),
    )
    assert audit.truth(SITE) == Truth(waiting_chats=1, waiting_calls=1, in_progress=1, online=2)
    summary = {
        "queues": {"chats": {"waiting": 1}, "calls": {"waiting": 1}},
        "in_progress": {"active": 0, "on_hold": 1},
        "operators": {"online": 2},
    }
    assert Truth.of_summary(summary) == audit.truth(SITE)
