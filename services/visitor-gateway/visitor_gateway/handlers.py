"""What the gateway does with each event it consumes: a heartbeat feeds the Site Monitor, every
other event goes to the sockets it concerns."""

from __future__ import annotations

from livechat_shared.contracts import Message, VisitorBrowsing

from visitor_gateway.adapters.hub import Hub
from visitor_gateway.domain.site_monitor import SiteMonitor


class GatewayService:
    def __init__(self, hub: Hub, monitor: SiteMonitor) -> None:
        self._hub = hub
        self._monitor = monitor

    async def handle(self, message: Message) -> None:
        if isinstance(message, VisitorBrowsing):
            self._monitor.heartbeat(message)
        else:
            await self._hub.deliver(message)
