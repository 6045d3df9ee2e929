"""Timers are rules: the events that start one say which, as a value the handler only schedules."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from livechat_shared.contracts import (
    Channel,
    CheckOperatorConnection,
    ExpireOffer,
    OperatorConnected,
    OperatorDisconnected,
    VisitorLeftQueue,
)
from livechat_shared.contracts.events import ChatOffered
from queue_manager.domain import RoutingPolicy
from queue_manager.domain.timers import started_by

T0 = datetime(2026, 1, 1, tzinfo=UTC)
POLICY = RoutingPolicy()


def derived(key: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, key)


def test_an_offer_starts_its_expiry_with_the_same_id_on_every_redelivery() -> None:
    offer = ChatOffered(
        site_id="acme",
        offer_id=uuid.uuid4(),
        visitor_id="v1",
        operator_id="ann",
        channel=Channel.CHAT,
        waiting_since=T0,
        expires_at=T0 + POLICY.offer_timeout,
    )
    timer, again = started_by(offer, POLICY, derived), started_by(offer, POLICY, derived)
    assert timer is not None and again is not None
    assert timer.command.command_id == again.command.command_id
    assert isinstance(timer.command, ExpireOffer) and timer.command.offer_id == offer.offer_id
    assert timer.delay_seconds == POLICY.offer_timeout.total_seconds()


def test_a_console_claim_is_checked_after_its_lease_and_a_lost_console_after_the_grace() -> None:
    connected = started_by(
        OperatorConnected(site_id="acme", operator_id="ann", replica_id="r1"), POLICY, derived
    )
    gone = started_by(
        OperatorDisconnected(site_id="acme", operator_id="ann", replica_id="r1"), POLICY, derived
    )
    assert connected is not None and gone is not None
    assert isinstance(connected.command, CheckOperatorConnection)
    lease, grace = POLICY.connection_lease, POLICY.disconnect_grace
    assert connected.delay_seconds == (lease + grace).total_seconds()
    assert gone.delay_seconds == grace.total_seconds()
    assert timedelta(seconds=gone.delay_seconds) < timedelta(seconds=connected.delay_seconds)


def test_an_event_without_a_timer_starts_none() -> None:
    left = VisitorLeftQueue(site_id="acme", visitor_id="v1")
    assert started_by(left, POLICY, derived) is None
