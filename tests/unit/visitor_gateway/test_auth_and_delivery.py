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
    VisitorQueued,
)
from visitor_gateway.auth import Caller, InvalidToken, issue, verify
from visitor_gateway.delivery import recipients

SECRET = "unit-secret-0123456789-0123456789-xyz"
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def test_a_token_names_its_caller() -> None:
    caller = Caller(role="operator", site_id="acme", subject="ann")
    assert verify(SECRET, issue(SECRET, caller, timedelta(minutes=5)), "operator") == caller


@pytest.mark.parametrize(
    "token, role, reason",
    [
        (
            issue(SECRET, Caller("visitor", "acme", "v1"), timedelta(minutes=5)),
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
                timedelta(minutes=5),
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
