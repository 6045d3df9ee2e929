"""The site's maximum number of chats: set by its administrator, the default otherwise, kept in
the journal (applied on replay), and announced as it stands."""

from __future__ import annotations

from livechat_shared.contracts import (
    AnnounceSiteSettings,
    Channel,
    ChatOffered,
    Event,
    OperatorCapacityChanged,
    OperatorSlotsChanged,
    Presence,
    SetSiteMaxChats,
    SiteMaxChatsChanged,
)
from queue_manager.domain import RoutingPolicy, Site, apply

from tests.unit.queue_manager.desk import SITE, Desk, offers
from tests.unit.queue_manager.test_operator_slots import chat_slots


def site_max(desk: Desk, max_chats: int) -> list[Event]:
    return desk.send(SetSiteMaxChats(site_id=SITE, max_chats=max_chats))


def announce(desk: Desk) -> list[Event]:
    return desk.send(AnnounceSiteSettings(site_id=SITE))


def test_a_site_without_its_own_maximum_uses_the_default() -> None:
    desk = Desk(RoutingPolicy(max_chats=2))
    desk.online("ann")
    desk.start_chat("v1")
    desk.start_chat("v2")
    desk.arrive("v3")
    assert desk.site.max_chats is None
    assert [v.visitor_id for v in desk.site.waiting(Channel.CHAT)] == ["v3"]


def test_raising_the_site_maximum_offers_the_waiting_visitors_at_once() -> None:
    desk = Desk(RoutingPolicy(max_chats=1))
    desk.online("ann", "bob")
    desk.start_chat("v1")
    desk.start_chat("v2")  # each operator leads one: both full
    for visitor in ("v3", "v4", "v5"):
        desk.arrive(visitor)
    events = site_max(desk, 2)
    changed = [e for e in events if isinstance(e, SiteMaxChatsChanged)]
    assert [(e.max_chats, e.from_default) for e in changed] == [(2, False)]
    # the longest waiting first, each to an operator that gained room; v5 waits
    offered = offers(events)
    assert [v for v, _ in offered] == ["v3", "v4"]
    assert {o for _, o in offered} == {"ann", "bob"}
    assert [v.visitor_id for v in desk.site.waiting(Channel.CHAT)] == ["v5"]
    assert sorted(chat_slots(events)) == [("ann", 2, 2, 0), ("bob", 2, 2, 0)]


def test_lowering_the_site_maximum_ends_no_chat_and_stops_new_offers_until_below() -> None:
    desk = Desk(RoutingPolicy(max_chats=3))
    desk.online("ann")
    started = [desk.start_chat(v) for v in ("v1", "v2", "v3")]
    events = site_max(desk, 1)
    assert not [e for e in events if e.type_name() == "ChatEnded"]
    assert chat_slots(events) == [("ann", 1, 3, 0)]
    desk.arrive("v4")
    assert not desk.site.offers  # over the maximum: no offer
    desk.end(started[0])
    desk.end(started[1])
    assert not desk.site.offers  # still at it
    assert offers(desk.end(started[2])) == [("v4", "ann")]


def test_an_operators_own_maximum_wins_over_the_sites_and_clearing_it_falls_back() -> None:
    desk = Desk(RoutingPolicy(max_chats=3))
    desk.online("ann")
    desk.capacity("ann", 1)
    assert chat_slots(site_max(desk, 5)) == []  # ann's own maximum still applies
    assert chat_slots(desk.capacity("ann", None)) == [("ann", 5, 0, 5)]


def test_setting_the_same_maximum_again_changes_nothing_but_the_default_value_is_stored() -> None:
    desk = Desk(RoutingPolicy(max_chats=3))
    desk.online("ann")
    first = site_max(desk, 3)  # the default's value, now the site's own
    assert [(e.max_chats, e.from_default) for e in first if isinstance(e, SiteMaxChatsChanged)] == [
        (3, False)
    ]
    assert chat_slots(first) == []
    assert site_max(desk, 3) == []


def test_the_site_maximum_is_applied_again_on_replay() -> None:
    desk = Desk(RoutingPolicy(max_chats=2))
    desk.online("ann")
    site_max(desk, 4)
    desk.start_chat("v1")
    replayed = Site(SITE)
    for event in desk.history:
        apply(replayed, event)
    assert replayed.max_chats == 4
    # an announcement of the default (from_default) is replayed as "no own value"
    fresh = Desk(RoutingPolicy(max_chats=2))
    fresh.online("ann")
    announced = announce(fresh)
    again = Site(SITE)
    for event in fresh.history:
        apply(again, event)
    assert again.max_chats is None
    assert [
        (e.max_chats, e.from_default) for e in announced if isinstance(e, SiteMaxChatsChanged)
    ] == [(2, True)]


def test_an_announcement_publishes_the_settings_and_every_known_operators_slots_as_they_are() -> (
    None
):
    desk = Desk(RoutingPolicy(max_chats=3, max_calls=1))
    desk.online("ann", "bob")
    desk.presence("bob", Presence.OFFLINE)
    desk.capacity("ann", 2)
    desk.start_chat("v1")
    before = (
        desk.site.max_chats,
        {o: (p.max_chats, p.presence) for o, p in desk.site.operators.items()},
    )
    events = announce(desk)
    assert [
        (e.max_chats, e.from_default) for e in events if isinstance(e, SiteMaxChatsChanged)
    ] == [(3, True)]
    assert [
        (e.operator_id, e.max_chats) for e in events if isinstance(e, OperatorCapacityChanged)
    ] == [("ann", 2)]
    slots = {(e.operator_id, e.channel) for e in events if isinstance(e, OperatorSlotsChanged)}
    assert slots == {(o, ch) for o in ("ann", "bob") for ch in Channel}
    assert sorted(chat_slots(events)) == [("ann", 2, 1, 1), ("bob", 3, 0, 3)]
    assert not [e for e in events if isinstance(e, ChatOffered)]
    after = (
        desk.site.max_chats,
        {o: (p.max_chats, p.presence) for o, p in desk.site.operators.items()},
    )
    assert after == before
