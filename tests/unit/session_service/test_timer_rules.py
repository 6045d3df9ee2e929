"""The visitor-gone check is a rule that returns a timer as a value: the handler only schedules it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from livechat_shared.contracts import Channel, EndChatIfVisitorGone, VisitorDisconnected
from livechat_shared.contracts.timers import REARM_MINIMUM_SECONDS
from session_service.domain import Session
from session_service.domain.timers import rearmed_visitor_gone_check, visitor_gone_check
from session_service.handlers import derived_id

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_a_kept_disconnect_starts_the_same_check_on_every_redelivery() -> None:
    gone = VisitorDisconnected(site_id="acme", visitor_id="v1", occurred_at=T0)
    first, again = (visitor_gone_check(gone, 30.0, derived_id) for _ in range(2))
    assert first == again
    assert isinstance(first.command, EndChatIfVisitorGone)
    assert (first.delay_seconds, first.due_in_seconds) == (30.0, None)
    assert first.command.disconnected_at == T0


def test_a_rearmed_check_waits_what_is_left_of_the_grace_and_never_less_than_the_minimum() -> None:
    session = Session(
        session_id=uuid.uuid4(),
        site_id="acme",
        visitor_id="v1",
        operator_id="ann",
        channel=Channel.CHAT,
        started_at=T0,
        visitor_gone_since=T0,
    )
    soon = rearmed_visitor_gone_check(session, 30.0, T0 + timedelta(seconds=10), uuid.uuid4())
    late = rearmed_visitor_gone_check(session, 30.0, T0 + timedelta(seconds=99), uuid.uuid4())
    assert (soon.delay_seconds, soon.due_in_seconds) == (30.0, 20.0)
    assert late.due_in_seconds == REARM_MINIMUM_SECONDS
