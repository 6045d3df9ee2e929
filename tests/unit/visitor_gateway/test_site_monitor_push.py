"""The Site Monitor is pushed to the consoles of its site on this replica: once per change of
what they show, never for a visitor who just keeps browsing the same page, never to another
site's consoles nor to visitors."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import cast

from fastapi import WebSocket
from livechat_shared.contracts import VisitorBrowsing
from visitor_gateway.adapters.hub import Hub
from visitor_gateway.domain.site_monitor import SiteMonitor
from visitor_gateway.monitor_push import SiteMonitorPush

from tests.unit.visitor_gateway.test_hub import FakeSocket

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
HOME, CART = "https://shop.example.com/", "https://shop.example.com/cart"


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


async def drained() -> None:
    """Let the outboxes' writers send what is queued (no I/O: a few turns of the loop)."""
    for _ in range(10):
        await asyncio.sleep(0)


def beat(visitor: str, page: str, at: datetime, site: str = "acme") -> VisitorBrowsing:
    return VisitorBrowsing(site_id=site, visitor_id=visitor, page=page, occurred_at=at)


async def test_consoles_get_a_frame_per_change_of_their_sites_browsing_visitors() -> None:
    hub, monitor, clock = Hub(), SiteMonitor(timedelta(seconds=60)), Clock()
    push = SiteMonitorPush(hub, monitor, every_seconds=2, clock=clock)
    ann, ann_again, bob, carl, visitor = (FakeSocket() for _ in range(5))
    hub.add(("acme", "operator", "ann"), cast(WebSocket, ann))
    hub.add(("acme", "operator", "ann"), cast(WebSocket, ann_again))
    hub.add(("acme", "operator", "bob"), cast(WebSocket, bob))
    hub.add(("beta", "operator", "carl"), cast(WebSocket, carl))
    hub.add(("acme", "visitor", "v1"), cast(WebSocket, visitor))

    monitor.heartbeat(beat("v1", HOME, NOW))
    assert push.push_changes() == 1  # acme shows v1; beta, where nobody browses, gets nothing
    clock.now = NOW + timedelta(seconds=20)
    monitor.heartbeat(beat("v1", HOME, clock.now))  # a refresh beat: nothing a console shows
    assert push.push_changes() == 0
    monitor.heartbeat(beat("v1", CART, clock.now))
    assert push.push_changes() == 1
    clock.now = NOW + timedelta(seconds=90)  # v1 fell silent past the browsing timeout
    assert push.push_changes() == 1
    await drained()  # the outboxes' writers send

    for console in (ann, ann_again, bob):
        frames = [f for f in console.sent if f["type"] == "SiteMonitor"]
        assert [[(v["visitor_id"], v["page"]) for v in f["visitors"]] for f in frames] == [
            [("v1", HOME)],
            [("v1", CART)],
            [],
        ]
        assert frames[1]["visitors"][0]["pages_viewed"] == 2
        assert frames[1]["visitors"][0]["time_on_site_seconds"] == 20.0
    assert carl.sent == []
    assert visitor.sent == []


async def test_a_site_whose_consoles_all_closed_is_forgotten_and_pushed_afresh() -> None:
    hub, monitor, clock = Hub(), SiteMonitor(timedelta(seconds=60)), Clock()
    push = SiteMonitorPush(hub, monitor, every_seconds=2, clock=clock)
    monitor.heartbeat(beat("v1", HOME, NOW))
    first = FakeSocket()
    hub.add(("acme", "operator", "ann"), cast(WebSocket, first))
    assert push.push_changes() == 1
    hub.remove(("acme", "operator", "ann"), cast(WebSocket, first))
    assert push.push_changes() == 0
    later = FakeSocket()
    hub.add(("acme", "operator", "ann"), cast(WebSocket, later))
    assert push.push_changes() == 1  # nothing changed, but this console was never pushed
    await drained()
    assert [[v["visitor_id"] for v in f["visitors"]] for f in later.sent] == [["v1"]]


async def test_a_big_site_gets_its_longest_browsing_visitors_and_how_many_browse() -> None:
    hub, monitor, clock = Hub(), SiteMonitor(timedelta(seconds=60)), Clock()
    push = SiteMonitorPush(hub, monitor, every_seconds=2, shown=3, clock=clock)
    ann = FakeSocket()
    hub.add(("acme", "operator", "ann"), cast(WebSocket, ann))
    for n in range(5):  # v0 came first: longest on the site
        monitor.heartbeat(beat(f"v{n}", HOME, NOW + timedelta(seconds=n)))
    assert push.push_changes() == 1
    clock.now = NOW + timedelta(seconds=10)
    monitor.heartbeat(beat("v4", CART, clock.now))  # one not shown moves: nothing shown changed
    assert push.push_changes() == 0
    monitor.heartbeat(beat("v5", HOME, clock.now))  # one more browses: the count changed
    assert push.push_changes() == 1
    monitor.heartbeat(beat("v1", CART, clock.now))  # one shown moves
    assert push.push_changes() == 1
    await drained()

    frames = [f for f in ann.sent if f["type"] == "SiteMonitor"]
    assert [([v["visitor_id"] for v in f["visitors"]], f["browsing"]) for f in frames] == [
        (["v0", "v1", "v2"], 5),
        (["v0", "v1", "v2"], 6),
        (["v0", "v1", "v2"], 6),
    ]
    assert frames[2]["visitors"][1]["page"] == CART
