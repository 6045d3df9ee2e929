"""Limits that protect everyone else: rate per identity and address, sockets per identity, and
memory that follows the visitors browsing now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from livechat_shared.contracts import VisitorBrowsing
from visitor_gateway.domain.limits import RateLimit, SocketQuota, retry_after
from visitor_gateway.domain.site_monitor import SiteMonitor

from tests.unit.visitor_gateway.edge import client, gateway_app

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def test_a_burst_is_allowed_then_the_sustained_rate_with_the_wait_to_retry() -> None:
    limit = RateLimit(rate=2.0, burst=3, max_keys=100)
    assert [limit.take("v1", 0.0) for _ in range(3)] == [None, None, None]
    assert limit.take("v1", 0.0) == 0.5
    assert limit.take("v2", 0.0) is None  # another key has its own bucket
    assert limit.take("v1", 0.5) is None
    assert retry_after(0.2) == "1" and retry_after(2.1) == "3"


def test_rate_limit_memory_is_bounded_and_idle_keys_are_forgotten() -> None:
    limit = RateLimit(rate=1.0, burst=2, max_keys=1000)
    for i in range(10_000):
        limit.take(f"fresh-{i}", i / 10_000)
    assert len(limit) == 1000
    limit.forget_idle(1.0 + 2.0)  # a whole refill later every bucket is full again
    assert len(limit) == 0


def test_an_identity_holds_only_its_share_of_sockets() -> None:
    quota = SocketQuota(per_identity=2)
    ann = ("acme", "operator", "ann")
    assert quota.acquire(ann) and quota.acquire(ann)
    assert not quota.acquire(ann)
    assert quota.acquire(("acme", "operator", "bob"))
    quota.release(ann)
    assert quota.acquire(ann)


def beat(visitor: str, at: datetime, site: str = "acme") -> VisitorBrowsing:
    return VisitorBrowsing(
        site_id=site, visitor_id=visitor, page="https://shop.example.com/", occurred_at=at
    )


def test_the_site_monitor_forgets_silent_visitors_on_its_own() -> None:
    monitor = SiteMonitor(timedelta(seconds=60), memory=timedelta(minutes=10))
    for i in range(1000):
        monitor.heartbeat(beat(f"v{i}", NOW, site=f"s{i % 7}"))
    monitor.heartbeat(beat("late", NOW + timedelta(minutes=5)))
    assert len(monitor) == 1001
    assert monitor.forget_silent(NOW + timedelta(minutes=11)) == 1000
    assert len(monitor) == 1
    [late] = monitor.browsing("acme", NOW + timedelta(minutes=5, seconds=30))
    assert late.visitor_id == "late"
    monitor.heartbeat(beat("next", NOW + timedelta(minutes=16)))  # a heartbeat prunes too
    assert len(monitor) == 1


async def test_public_routes_answer_429_with_retry_after_per_identity_and_per_address() -> None:
    app, published = gateway_app(
        identity_request_burst=3,
        identity_requests_per_second=0.1,
        address_request_burst=8,
        address_requests_per_second=0.1,
    )
    async with client(app) as http:
        token = (await http.post("/v1/sites/acme/visitors")).json()["token"]
        auth = {"authorization": f"Bearer {token}"}
        beat_body = {"page": "https://shop.example.com/"}
        codes = [
            (await http.post("/v1/visitor/heartbeat", json=beat_body, headers=auth)).status_code
            for _ in range(4)
        ]
        assert codes == [202, 202, 202, 429]
        refused = await http.post("/v1/visitor/chat-requests", json={}, headers=auth)
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1
        assert refused.json()["detail"]
        # the address has spent 1 + 5 of its 8: three more fresh visitors, then 429
        created = [(await http.post("/v1/sites/acme/visitors")).status_code for _ in range(3)]
        assert created == [201, 201, 429]
    assert len(published.messages) == 3
