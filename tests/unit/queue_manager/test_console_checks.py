"""The queue manager schedules console checks through its delay queue, and after a restart
checks again the operators whose presence hangs on a console (issue: a restarted `make run`
brought back an operator as online whose console was gone)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from livechat_shared.contracts import (
    CheckOperatorConnection,
    OperatorConnected,
    OperatorDisconnected,
    OperatorPresenceChanged,
    OperatorSlotsChanged,
    Presence,
    SetOperatorPresence,
)
from queue_manager.adapters.memory_journal import MemoryJournal
from queue_manager.domain import RoutingPolicy
from queue_manager.handlers import RoutingService

from tests.unit.queue_manager.desk import SITE, T0
from tests.unit.queue_manager.test_routing_service import RecordingPublisher

GRACE = timedelta(seconds=30)
LEASE = timedelta(seconds=60)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def routing(journal: MemoryJournal, clock: Clock) -> tuple[RoutingService, RecordingPublisher]:
    publisher = RecordingPublisher()
    policy = RoutingPolicy(disconnect_grace=GRACE, connection_lease=LEASE)
    return RoutingService(journal, publisher, policy, clock), publisher


async def test_each_console_fact_schedules_a_check_and_is_kept_not_republished() -> None:
    service, publisher = routing(MemoryJournal(), Clock())
    claim = OperatorConnected(site_id=SITE, operator_id="ann", replica_id="gw-1", occurred_at=T0)
    await service.handle(claim)
    await service.handle(
        OperatorDisconnected(site_id=SITE, operator_id="ann", replica_id="gw-1", occurred_at=T0)
    )
    # Facts of the gateway's, not ours to publish again; only the slots of an operator first seen.
    assert [type(m) for m in publisher.published] == [OperatorSlotsChanged, OperatorSlotsChanged]
    assert all(isinstance(m, CheckOperatorConnection) for m, _ in publisher.delayed)
    assert [d for _, d in publisher.delayed] == pytest.approx(
        [(LEASE + GRACE).total_seconds(), GRACE.total_seconds()]
    )


async def test_after_a_restart_an_operator_whose_console_is_gone_is_checked_and_made_away() -> None:
    journal, clock = MemoryJournal(), Clock()
    before, _ = routing(journal, clock)
    await before.handle(
        OperatorConnected(site_id=SITE, operator_id="ann", replica_id="gw-old", occurred_at=T0)
    )
    await before.handle(
        SetOperatorPresence(site_id=SITE, operator_id="ann", presence=Presence.ONLINE)
    )
    # everything stops (the gateway too), the pending check is lost; later all comes back
    clock.now = T0 + timedelta(minutes=10)
    after, publisher = routing(journal, clock)
    await after.load()
    assert after.site(SITE).operators["ann"].presence is Presence.ONLINE
    assert await after.recheck_consoles() == 1
    [(check, delay)] = publisher.delayed
    assert delay == pytest.approx((LEASE + GRACE).total_seconds())
    clock.now += timedelta(seconds=delay)
    await after.handle(check)
    [away] = [m for m in publisher.published if isinstance(m, OperatorPresenceChanged)]
    assert (away.presence, away.reason) == (Presence.AWAY, "disconnected")
