"""Heartbeats go out only with news: a page change, or the first for a third of the timeout.
The monitor's view of a visitor who keeps browsing is the same as with every beat sent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from livechat_shared.contracts import VisitorBrowsing
from visitor_gateway.api.gateway import Gateway
from visitor_gateway.domain.auth import Caller, issue
from visitor_gateway.domain.site_monitor import SiteMonitor

from tests.unit.visitor_gateway.edge import SECRET, client, gateway_app

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
HOME, CART = "https://shop.example.com/", "https://shop.example.com/cart"


def beat(page: str, seconds: float, title: str | None = None) -> VisitorBrowsing:
    at = NOW + timedelta(seconds=seconds)
    return VisitorBrowsing(site_id="acme", visitor_id="v1", page=page, title=title, occurred_at=at)


def test_only_news_goes_out_and_the_visitor_never_drops_off() -> None:
    monitor = SiteMonitor(timedelta(seconds=60))  # news at least every 20 s
    every_five_seconds = [beat(HOME, s) for s in range(0, 40, 5)] + [beat(CART, 40)]
    every_five_seconds += [beat(CART, s, "Cart") for s in range(45, 180, 5)]
    sent = []
    for b in every_five_seconds:
        if monitor.is_news(b):
            sent.append(b.occurred_at - NOW)
            monitor.heartbeat(b)  # what the replica gets back from the broker
        [seen] = monitor.browsing("acme", b.occurred_at)  # never dropped off
        assert seen.visits == 1
    seconds = [int(t.total_seconds()) for t in sent]
    assert seconds == [0, 20, 40, 45, 65, 85, 105, 125, 145, 165]  # 10 of 36
    [seen] = monitor.browsing("acme", NOW + timedelta(seconds=180))
    assert (seen.page, seen.title, seen.pages_viewed) == (CART, "Cart", 2)


async def test_the_heartbeat_route_publishes_the_news_only() -> None:
    app, published = gateway_app()
    gateway = app.state.gateway
    assert isinstance(gateway, Gateway)
    caller = Caller(role="visitor", site_id="acme", subject="v1")
    token = issue(SECRET, caller, timedelta(minutes=5))
    async with client(app, authorization=f"Bearer {token}") as http:
        for page in (HOME, HOME, HOME, CART, CART):
            response = await http.post("/v1/visitor/heartbeat", json={"page": page})
            assert response.status_code == 202, response.text
            for message in published.messages[-1:]:
                assert isinstance(message, VisitorBrowsing)
                gateway.monitor.heartbeat(message)  # the copy the broker brings back
    assert [str(m.page) for m in published.messages if isinstance(m, VisitorBrowsing)] == [
        HOME,
        CART,
    ]
