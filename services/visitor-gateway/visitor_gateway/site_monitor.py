"""The Site Monitor: who browses the site now, fed by every replica's copy of the heartbeats."""

from __future__ import annotations

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
    """Pure bookkeeping: heartbeats in, the visitors seen within `timeout` out."""

    def __init__(self, timeout: timedelta) -> None:
        self.timeout = timeout
        self._sites: dict[str, dict[str, Browsing]] = {}

    def heartbeat(self, beat: VisitorBrowsing) -> None:
        visitors = self._sites.setdefault(beat.site_id, {})
        seen = visitors.get(beat.visitor_id)
        at = beat.occurred_at
        page = str(beat.page)
        referrer = str(beat.referrer) if beat.referrer else None
        if seen is None:
            visitors[beat.visitor_id] = Browsing(
                beat.visitor_id, page, beat.title, referrer, at, at, 1, 1
            )
            return
        if at - seen.last_seen > self.timeout:  # it had dropped off: this is a new visit
            seen.visits += 1
            seen.visit_started = at
            seen.pages_viewed = 0
        if page != seen.page or seen.pages_viewed == 0:
            seen.pages_viewed += 1
        seen.page, seen.title, seen.last_seen = page, beat.title, max(seen.last_seen, at)
        seen.referrer = referrer or seen.referrer

    def browsing(self, site_id: str, now: datetime) -> list[Browsing]:
        """Visitors with a heartbeat within the timeout, longest on the site first."""
        visitors = self._sites.get(site_id, {})
        return sorted(
            (b for b in visitors.values() if now - b.last_seen <= self.timeout),
            key=lambda b: b.visit_started,
        )

    def forget_older_than(self, cutoff: datetime) -> None:
        """Drop visitors not seen since `cutoff` (their visit count goes with them)."""
        for visitors in self._sites.values():
            for visitor_id in [v for v, b in visitors.items() if b.last_seen < cutoff]:
                del visitors[visitor_id]
