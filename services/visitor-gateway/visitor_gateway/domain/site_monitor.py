"""The Site Monitor: who browses the site now, fed by every replica's copy of the heartbeats
that bring news (see `is_news`)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta

from livechat_shared.contracts import VisitorBrowsing


@dataclass
class Browsing:
    visitor_id: str
    page: str
    title: str | None
    referrer: str | None
    visit_started: datetime
    last_seen: datetime
    visits: int
    pages_viewed: int


class SiteMonitor:
    """Pure bookkeeping: heartbeats in, the visitors seen within `timeout` out.

    A visitor silent for `memory` is forgotten (with its visit count), by every heartbeat and
    by `forget_silent` which the gateway calls every few seconds: memory follows the visitors
    browsing now, not every identity ever seen."""

    def __init__(self, timeout: timedelta, memory: timedelta = timedelta(hours=1)) -> None:
        self.timeout = timeout
        self.memory = max(memory, timeout)
        self._sites: dict[str, dict[str, Browsing]] = {}
        # every visitor once, least recently seen first: forgetting is cheap from the front
        self._by_last_seen: OrderedDict[tuple[str, str], datetime] = OrderedDict()

    def __len__(self) -> int:
        return len(self._by_last_seen)

    def heartbeat(self, beat: VisitorBrowsing) -> None:
        visitors = self._sites.setdefault(beat.site_id, {})
        seen = visitors.get(beat.visitor_id)
        at = beat.occurred_at
        page = str(beat.page)
        referrer = str(beat.referrer) if beat.referrer else None
        if seen is None:
            seen = Browsing(beat.visitor_id, page, beat.title, referrer, at, at, 1, 1)
            visitors[beat.visitor_id] = seen
        else:
            if at - seen.last_seen > self.timeout:  # it had dropped off: this is a new visit
                seen.visits += 1
                seen.visit_started = at
                seen.pages_viewed = 0
            if page != seen.page or seen.pages_viewed == 0:
                seen.pages_viewed += 1
            seen.page, seen.title, seen.last_seen = page, beat.title, max(seen.last_seen, at)
            seen.referrer = referrer or seen.referrer
        key = (beat.site_id, beat.visitor_id)
        self._by_last_seen.pop(key, None)
        self._by_last_seen[key] = seen.last_seen
        self.forget_silent(at)

    @property
    def refresh(self) -> timedelta:
        """How often an unchanged heartbeat still goes out: a third of the timeout, so a
        visitor who keeps browsing never drops off (nor counts a new visit) for lack of one."""
        return self.timeout / 3

    def is_news(self, beat: VisitorBrowsing) -> bool:
        """Whether the beat tells the monitors anything: a visitor not seen lately, or another
        page, title or referrer. The widget beats every few seconds; the gateway publishes only
        the news, so every replica's monitor gets a beat per page and per `refresh`, not per
        call (its `last_seen` may then lag the visitor's last call by up to `refresh`)."""
        seen = self._sites.get(beat.site_id, {}).get(beat.visitor_id)
        if seen is None or beat.occurred_at - seen.last_seen >= self.refresh:
            return True
        referrer = str(beat.referrer) if beat.referrer else None
        return (
            str(beat.page) != seen.page
            or beat.title != seen.title
            or (referrer is not None and referrer != seen.referrer)
        )

    def browsing(self, site_id: str, now: datetime) -> list[Browsing]:
        """Visitors with a heartbeat within the timeout, longest on the site first."""
        visitors = self._sites.get(site_id, {})
        return sorted(
            (b for b in visitors.values() if now - b.last_seen <= self.timeout),
            key=lambda b: b.visit_started,
        )

    def forget_silent(self, now: datetime) -> int:
        """Forget visitors silent for `memory`; how many were forgotten.

        Heartbeats from replicas may arrive a little out of order, so the order is by arrival
        and a late one only delays forgetting; nobody seen within `memory` is dropped."""
        cutoff = now - self.memory
        forgotten = 0
        while self._by_last_seen:
            (site_id, visitor_id), last_seen = next(iter(self._by_last_seen.items()))
            if last_seen >= cutoff:
                break
            del self._by_last_seen[(site_id, visitor_id)]
            visitors = self._sites[site_id]
            del visitors[visitor_id]
            if not visitors:
                del self._sites[site_id]
            forgotten += 1
        if forgotten and not self._by_last_seen:
            self._by_last_seen = OrderedDict()  # a dict keeps its size after deletes: let it go
        return forgotten


def browsing_rows(browsing: list[Browsing], now: datetime) -> list[dict[str, object]]:
    """The Site Monitor's rows as the console reads them (`GET /v1/operator/site-monitor` and
    the `SiteMonitor` frame): time on site counted to `now`."""
    return [
        {
            "visitor_id": b.visitor_id,
            "page": b.page,
            "title": b.title,
            "referrer": b.referrer,
            "time_on_site_seconds": round((now - b.visit_started).total_seconds(), 1),
            "visits": b.visits,
            "pages_viewed": b.pages_viewed,
            "last_seen": b.last_seen.isoformat(),
        }
        for b in browsing
    ]


def what_shows(browsing: list[Browsing], shown: int) -> Hashable:
    """What a console shows of the browsing visitors (the first `shown`, and how many browse),
    without the times that only tick: a visitor who keeps browsing the same page changes nothing
    (its `last_seen` moves with each refresh beat, its time on site every second; the console
    counts that itself)."""
    return len(browsing), tuple(
        (b.visitor_id, b.page, b.title, b.referrer, b.visit_started, b.visits, b.pages_viewed)
        for b in browsing[:shown]
    )


def monitor_view(browsing: list[Browsing], now: datetime, shown: int) -> dict[str, object]:
    """What `GET /v1/operator/site-monitor` and the `SiteMonitor` frame carry: the first `shown`
    browsing visitors (longest on the site first) and how many browse in all. A big site's
    frame stays small (about 280 bytes a visitor), however many browse."""
    return {"visitors": browsing_rows(browsing[:shown], now), "browsing": len(browsing)}


def monitor_frame(browsing: list[Browsing], now: datetime, shown: int) -> dict[str, object]:
    """The `SiteMonitor` frame pushed on the operator sockets of the site."""
    return {"type": "SiteMonitor", **monitor_view(browsing, now, shown), "as_of": now.isoformat()}
