"""Tokens and delivery rules of the gateway, without I/O."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from livechat_shared.contracts import (
    Channel,
    ChatMessagePosted,
    ChatOffered,
    CommandRejected,
    QueuePositionsChanged,
    VisitorBrowsing,
    VisitorQueued,
)
from visitor_gateway.domain.auth import Caller, InvalidToken, issue, verify
from visitor_gateway.domain.delivery import position_frames, recipients
from visitor_gateway.domain.site_monitor import SiteMonitor

SECRET = "unit-secret-0123456789-0123456789-xyz"
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def test_a_token_names_its_caller() -> None:
    caller = Caller(role="operator", site_id="acme", subject="ann")
    assert verify(SECRET, issue(SECRET, caller, timedelta(minutes=5)), "operator") == caller


@pytest.mark.parametrize(
    "token, role, reason",
    [
        (
            # minted at collection: valid for longer than a slow whole-suite run takes
            issue(SECRET, Caller("visitor", "acme", "v1"), timedelta(hours=6)),
            "operator",
            "operator token",
        ),
        (
            issue(SECRET, Caller("operator", "acme", "ann"), timedelta(minutes=-1)),
            "operator",
            "expired",
        ),
        (
            issue(
                "another-secret-0123456789-0123456789",
                Caller("operator", "acme", "ann"),
                timedelta(hours=6),
            ),
            "operator",
            "not valid",
        ),
        ("not-a-token", "visitor", "not valid"),
    ],
)
def test_wrong_expired_or_forged_tokens_are_refused(token: str, role: str, reason: str) -> None:
    with pytest.raises(InvalidToken, match=reason):
        verify(SECRET, token, role)  # type: ignore[arg-type]


def test_offers_go_to_the_operator_messages_to_both_rejections_to_the_sender() -> None:
    offer = ChatOffered(
        site_id="acme",
        offer_id=uuid.uuid4(),
        visitor_id="v1",
        operator_id="ann",
        channel=Channel.CHAT,
        waiting_since=NOW,
        expires_at=NOW,
    )
    assert recipients(offer) == [("acme", "operator", "ann")]
    posted = ChatMessagePosted(
        site_id="acme",
        session_id=uuid.uuid4(),
        seq=1,
        author="visitor",
        client_message_id="c1",
        text="hi",
        visitor_id="v1",
        operator_id="ann",
    )
    assert recipients(posted) == [("acme", "operator", "ann"), ("acme", "visitor", "v1")]
    rejected = CommandRejected(
        site_id="acme",
        command_id=uuid.uuid4(),
        command_type="PostChatMessage",
        visitor_id="v1",
        reason="the chat has ended",
    )
    assert recipients(rejected) == [("acme", "visitor", "v1")]
    queued = VisitorQueued(site_id="acme", visitor_id="v1", channel=Channel.CHAT, waiting_since=NOW)
    assert recipients(queued) == [("acme", "visitor", "v1")]


def beat(visitor: str, page: str, at: datetime) -> VisitorBrowsing:
    return VisitorBrowsing(site_id="acme", visitor_id=visitor, page=page, occurred_at=at)


def test_the_site_monitor_lists_browsing_visitors_and_drops_the_silent() -> None:
    monitor = SiteMonitor(timedelta(seconds=60))
    monitor.heartbeat(beat("v1", "https://shop.example.com/", NOW))
    monitor.heartbeat(beat("v2", "https://shop.example.com/a", NOW + timedelta(seconds=10)))
    monitor.heartbeat(beat("v1", "https://shop.example.com/cart", NOW + timedelta(seconds=50)))
    later = NOW + timedelta(seconds=100)
    [v1] = monitor.browsing("acme", later)  # v2 went silent 90 s ago
    assert (v1.visitor_id, v1.page, v1.pages_viewed, v1.visits) == (
        "v1",
        "https://shop.example.com/cart",
        2,
        1,
    )
    assert later - v1.visit_started == timedelta(seconds=100)


def test_a_visitor_coming_back_after_dropping_off_counts_a_new_visit() -> None:
    monitor = SiteMonitor(timedelta(seconds=60))
    monitor.heartbeat(beat("v1", "https://shop.example.com/", NOW))
    back = NOW + timedelta(minutes=30)
    monitor.heartbeat(beat("v1", "https://shop.example.com/", back))
    [v1] = monitor.browsing("acme", back)
    assert v1.visits == 2 and v1.visit_started == back


def test_queue_positions_are_each_visitors_own_with_an_estimate() -> None:
    update = QueuePositionsChanged(
        site_id="acme",
        channel=Channel.CHAT,
        waiting=["v1", "v2"],
        total_waiting=2,
        seconds_per_position=20.0,
    )
    frames = position_frames(update)
    assert [(who[2], f["position"], f["estimated_wait_seconds"]) for who, f in frames] == [
        ("v1", 1, 20.0),
        ("v2", 2, 40.0),
    ]
