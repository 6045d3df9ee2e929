"""Presence follows the operator's console: gone past the grace (or a replica's lease), away."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from livechat_shared.contracts import (
    CheckOperatorConnection,
    Event,
    OfferWithdrawn,
    OperatorConnected,
    OperatorDisconnected,
    OperatorPresenceChanged,
    Presence,
    VisitorRequeued,
)
from queue_manager.domain import RoutingPolicy, Site, apply

from tests.unit.queue_manager.desk import SITE, Desk, offers, types

GRACE = 30
LEASE = 60
POLICY = RoutingPolicy(
    disconnect_grace=timedelta(seconds=GRACE), connection_lease=timedelta(seconds=LEASE)
)


def connected(desk: Desk, operator_id: str, replica: str = "gw-1") -> list[Event]:
    return desk.send(
        OperatorConnected(
            site_id=SITE, operator_id=operator_id, replica_id=replica, occurred_at=desk.now
        )
    )


def disconnected(desk: Desk, operator_id: str, replica: str = "gw-1") -> list[Event]:
    return desk.send(
        OperatorDisconnected(
            site_id=SITE, operator_id=operator_id, replica_id=replica, occurred_at=desk.now
        )
    )


def check(desk: Desk, operator_id: str) -> list[Event]:
    return desk.send(CheckOperatorConnection(site_id=SITE, operator_id=operator_id))


def test_an_operator_whose_console_stays_closed_past_the_grace_is_away_and_its_offer_requeued() -> (
    None
):
    desk = Desk(POLICY)
    connected(desk, "ann")
    desk.online("ann")
    desk.arrive("v1")
    assert desk.site.visitors["v1"].offer_id is not None
    disconnected(desk, "ann")
    desk.tick(GRACE)
    events = check(desk, "ann")
    assert types(events) == [
        "OperatorPresenceChanged",
        "OfferWithdrawn",
        "VisitorRequeued",
    ]
    [away] = [e for e in events if isinstance(e, OperatorPresenceChanged)]
    assert (away.presence, away.reason) == (Presence.AWAY, "disconnected")
    [withdrawn] = [e for e in events if isinstance(e, OfferWithdrawn)]
    assert withdrawn.reason == "operator_disconnected"
    [requeued] = [e for e in events if isinstance(e, VisitorRequeued)]
    assert requeued.reason == "operator_disconnected"
    assert desk.site.operators["ann"].load(requeued.channel) == 0
    assert desk.site.visitors["v1"].offer_id is None
    assert check(desk, "ann") == []  # a second check changes nothing


def test_the_requeued_visitor_goes_to_another_online_operator() -> None:
    desk = Desk(POLICY)
    connected(desk, "ann")
    desk.online("ann")
    desk.arrive("v1")
    connected(desk, "bob", "gw-2")
    desk.online("bob")
    disconnected(desk, "ann")
    desk.tick(GRACE)
    assert offers(check(desk, "ann")) == [("v1", "bob")]


def test_a_console_back_within_the_grace_keeps_the_operator_online() -> None:
    desk = Desk(POLICY)
    connected(desk, "ann")
    desk.online("ann")
    disconnected(desk, "ann")
    desk.tick(GRACE / 2)
    connected(desk, "ann", "gw-2")  # reconnected through another replica
    desk.tick(GRACE)
    assert check(desk, "ann") == []
    assert desk.site.operators["ann"].presence is Presence.ONLINE


def test_a_check_before_the_grace_is_over_waits_for_the_next_one() -> None:
    desk = Desk(POLICY)
    connected(desk, "ann")
    desk.online("ann")
    disconnected(desk, "ann")
    desk.tick(GRACE / 2)
    connected(desk, "ann")
    disconnected(desk, "ann")  # the first check is now early for this disconnection
    desk.tick(GRACE / 2)
    assert check(desk, "ann") == []
    desk.tick(GRACE / 2)
    assert types(check(desk, "ann")) == ["OperatorPresenceChanged"]


def test_sockets_on_two_replicas_keep_the_operator_online_until_both_are_gone() -> None:
    desk = Desk(POLICY)
    connected(desk, "ann", "gw-1")
    connected(desk, "ann", "gw-2")
    desk.online("ann")
    disconnected(desk, "ann", "gw-1")
    desk.tick(GRACE)
    assert check(desk, "ann") == []
    disconnected(desk, "ann", "gw-2")
    desk.tick(GRACE)
    assert types(check(desk, "ann")) == ["OperatorPresenceChanged"]


def test_the_claim_of_a_replica_that_crashed_runs_out_after_its_lease() -> None:
    desk = Desk(POLICY)
    connected(desk, "ann", "gw-crashed")
    desk.online("ann")
    desk.tick(LEASE - 1)
    assert check(desk, "ann") == []  # still within the lease
    desk.tick(GRACE + 1)
    assert types(check(desk, "ann")) == ["OperatorPresenceChanged"]


def test_a_renewed_claim_keeps_the_operator_online_however_long() -> None:
    desk = Desk(POLICY)
    connected(desk, "ann")
    desk.online("ann")
    for _ in range(10):
        desk.tick(LEASE / 3)
        connected(desk, "ann")
        assert check(desk, "ann") == []
    assert desk.site.operators["ann"].presence is Presence.ONLINE


def test_an_operator_that_never_had_a_console_is_left_as_it_set_itself() -> None:
    desk = Desk(POLICY)
    desk.online("ann")
    desk.tick(LEASE + GRACE)
    assert check(desk, "ann") == []


def test_an_offline_operator_stays_offline_and_a_reconnected_one_goes_online_again() -> None:
    desk = Desk(POLICY)
    connected(desk, "ann")
    desk.online("ann")
    disconnected(desk, "ann")
    desk.tick(GRACE)
    check(desk, "ann")
    connected(desk, "ann")
    desk.arrive("v1")
    assert offers(desk.history[-3:]) == []  # away: no automatic online
    assert offers(desk.online("ann")) == [("v1", "ann")]

    desk.presence("ann", Presence.OFFLINE)
    disconnected(desk, "ann")
    desk.tick(GRACE)
    assert check(desk, "ann") == []


def test_replaying_the_events_restores_the_claims() -> None:
    desk = Desk(POLICY)
    connected(desk, "ann", "gw-1")
    connected(desk, "ann", "gw-2")
    desk.online("ann")
    disconnected(desk, "ann", "gw-1")
    replayed = Site(SITE)
    for event in desk.history:
        apply(replayed, event)
    assert replayed.operators["ann"].consoles == desk.site.operators["ann"].consoles
    assert set(replayed.operators["ann"].consoles) == {"gw-2"}


steps = st.lists(
    st.tuples(
        st.sampled_from(["connect", "disconnect", "check"]),
        st.sampled_from(["gw-1", "gw-2"]),
        st.integers(min_value=0, max_value=2 * LEASE),
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(steps)
def test_away_exactly_when_every_console_is_gone_past_the_grace(
    script: list[tuple[str, str, int]],
) -> None:
    desk = Desk(POLICY)
    connected(desk, "ann", "gw-1")
    seen = {"gw-1": desk.now}  # the reference: each replica's last word, when it said it
    desk.online("ann")  # (a step of the desk's clock: the claim is older than `now`)
    closed_at = None
    for action, replica, wait in script:
        desk.tick(wait)
        if action == "connect":
            connected(desk, "ann", replica)
            seen[replica] = desk.now
            closed_at = None
        elif action == "disconnect":
            disconnected(desk, "ann", replica)
            if seen.pop(replica, None) is not None:
                closed_at = desk.now
        else:
            was_online = desk.site.operators["ann"].presence is Presence.ONLINE
            made_away = any(
                isinstance(e, OperatorPresenceChanged) and e.reason == "disconnected"
                for e in check(desk, "ann")
            )
            live = any((desk.now - t).total_seconds() < LEASE for t in seen.values())
            ends = [t + timedelta(seconds=LEASE) for t in seen.values()]
            ends += [closed_at] if closed_at is not None else []
            gone_long = bool(ends) and (desk.now - max(ends)).total_seconds() >= GRACE
            assert made_away == (was_online and not live and gone_long)
            if made_away:
                seen.clear()
                closed_at = None
                desk.online("ann")  # the console comes back to work later
