"""Session metrics: counters fed by newly decided events, a gauge recounted from the store."""

from __future__ import annotations

from collections.abc import Sequence

from livechat_shared.contracts import (
    ChatEnded,
    ChatHeld,
    ChatMessagePosted,
    ChatResumed,
    ChatStarted,
    Event,
)
from livechat_shared.runtime.metrics import ServiceMetrics
from prometheus_client import Counter, Gauge

from session_service.domain import OPEN
from session_service.ports import SessionStore

_STATUS_CHANGES = (ChatStarted, ChatHeld, ChatResumed, ChatEnded)


class SessionMetrics:
    """The service's Observer. The gauge is recounted from the store rather than kept by
    increments, so it stays true across restarts and after a standby replica takes over."""

    def __init__(self, metrics: ServiceMetrics, store: SessionStore) -> None:
        self.store = store
        self.sessions = Gauge(
            "livechat_chat_sessions",
            "Sessions in progress by site and status (held ones still count against capacity).",
            ["site", "status"],
            registry=metrics.registry,
        )
        self.messages_posted = Counter(
            "livechat_chat_messages_posted",
            "Chat messages stored in a transcript, by author.",
            ["author"],
            registry=metrics.registry,
        )
        self.sessions_ended = Counter(
            "livechat_chat_sessions_ended",
            "Sessions ended, by who or what ended them.",
            ["ended_by"],
            registry=metrics.registry,
        )

    async def load(self) -> None:
        """Count every site's sessions in progress (at start-up)."""
        await self._recount(None)

    async def __call__(self, site_id: str, events: Sequence[Event]) -> None:
        for event in events:
            if isinstance(event, ChatMessagePosted):
                self.messages_posted.labels(event.author).inc()
            elif isinstance(event, ChatEnded):
                self.sessions_ended.labels(event.ended_by).inc()
        if any(isinstance(event, _STATUS_CHANGES) for event in events):
            await self._recount(site_id)

    async def _recount(self, site_id: str | None) -> None:
        counts = await self.store.count_open(site_id)
        sites = {site_id} if site_id is not None else {site for site, _ in counts}
        for site in sites:
            for status in OPEN:
                self.sessions.labels(site, status).set(counts.get((site, status), 0))
