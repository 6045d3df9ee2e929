"""Pushes the Site Monitor to the consoles on this replica: at most one `SiteMonitor` frame per
site and interval, and only when what a console shows changed (a visitor came, left, moved to
another page), so a console never polls and a quiet site costs nothing on the wire."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Hashable
from datetime import datetime

from livechat_shared.contracts.envelope import utc_now

from visitor_gateway.adapters.hub import Hub
from visitor_gateway.domain.site_monitor import SiteMonitor, monitor_frame, what_shows


class SiteMonitorPush:
    def __init__(
        self,
        hub: Hub,
        monitor: SiteMonitor,
        every_seconds: float,
        shown: int = 200,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.hub = hub
        self.monitor = monitor
        self.every_seconds = every_seconds
        self.shown = shown
        self.clock = clock
        self._shown: dict[str, Hashable] = {}
        """Site id -> what its consoles here were last pushed (sites with a console here; a
        site never pushed shows nobody)."""

    def push_changes(self) -> int:
        """Push each site whose browsing visitors changed since its last push; how many sites.
        A console that opens later reads `GET /v1/operator/site-monitor` once, then follows."""
        now = self.clock()
        consoles = self.hub.operators_by_site()
        for gone in self._shown.keys() - consoles.keys():
            del self._shown[gone]
        pushed = 0
        nobody = what_shows([], self.shown)
        for site_id, operators in consoles.items():
            browsing = self.monitor.browsing(site_id, now)
            shows = what_shows(browsing, self.shown)
            # a site never pushed shows nobody (its consoles read it so when they opened)
            if self._shown.get(site_id, nobody) == shows:
                continue
            self._shown[site_id] = shows
            payload = json.dumps(monitor_frame(browsing, now, self.shown))
            for who in operators:
                self.hub.tell(who, payload)
            pushed += 1
        return pushed

    async def keep_pushing(self) -> None:
        while True:
            await asyncio.sleep(self.every_seconds)
            self.push_changes()
