"""The offline messages service's internal API: a site's Message Queue."""

from __future__ import annotations

from livechat_shared.contracts.views import MessageQueue

from visitor_gateway.adapters.internal_api import InternalApi, ServiceUnavailable, path


class OfflineMessagesUnavailable(ServiceUnavailable):
    """The offline messages service did not answer."""


class OfflineMessagesClient(InternalApi):
    unavailable = OfflineMessagesUnavailable

    async def queue(self, site_id: str, status: str, limit: int) -> MessageQueue:
        found = await self._get(
            path("v1", "sites", site_id, "messages"), MessageQueue, status=status, limit=limit
        )
        return found or MessageQueue(messages=[])
