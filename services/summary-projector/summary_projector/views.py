"""The read models served over HTTP and on the stream, built from the domain's summaries (their
shapes are in livechat_shared.contracts.views: the gateway declares them in its OpenAPI too)."""

from __future__ import annotations

from datetime import datetime

from livechat_shared.contracts.views import (
    CommunicationQueueView,
    InProgressView,
    MinimizedSummaryView,
    OperatorChatLimitView,
    OperatorMaxChatsView,
    OperatorSummaryView,
    OperatorsView,
    PendingOfferView,
    QueueEntryView,
    QueuesView,
    QueueView,
    SiteSettingsView,
    SiteSummaryView,
)

from summary_projector.domain import (
    ChatLimit,
    InProgress,
    OperatorSummary,
    Queue,
    QueueEntry,
    SiteSettings,
    SiteSummary,
)

__all__ = [
    "CommunicationQueueView",
    "MinimizedSummaryView",
    "OperatorChatLimitView",
    "OperatorSummaryView",
    "SiteSettingsView",
    "SiteSummaryView",
    "chat_limit_view",
    "minimized_view",
    "operator_view",
    "queue_view",
    "settings_view",
    "site_view",
]


def site_view(summary: SiteSummary, version: int, now: datetime) -> SiteSummaryView:
    return SiteSummaryView(
        site_id=summary.site_id,
        version=version,
        as_of=now,
        in_progress=_in_progress(summary.in_progress),
        queues=_queues(summary, now),
        operators=OperatorsView(
            online=summary.operators.online,
            away=summary.operators.away,
            with_free_capacity=summary.operators.with_free_capacity,
        ),
    )


def minimized_view(summary: SiteSummary, version: int, now: datetime) -> MinimizedSummaryView:
    return MinimizedSummaryView(
        site_id=summary.site_id, version=version, as_of=now, queues=_queues(summary, now)
    )


def operator_view(
    site_id: str, summary: OperatorSummary, version: int, now: datetime
) -> OperatorSummaryView:
    return OperatorSummaryView(
        site_id=site_id,
        version=version,
        as_of=now,
        operator_id=summary.operator_id,
        presence=summary.presence,
        max_chats=summary.max_chats,
        in_progress=_in_progress(summary.in_progress),
        pending_offers=summary.pending_offers,
        pending_invitations=summary.pending_invitations,
        free_chat_slots=summary.free_chat_slots,
        has_free_capacity=summary.has_free_capacity,
        presence_reason=summary.presence_reason,
        offers=[
            PendingOfferView(
                offer_id=o.offer_id,
                visitor_id=o.visitor_id,
                channel=o.channel,
                waiting_since=o.waiting_since,
                expires_at=o.expires_at,
            )
            for o in summary.offers
        ],
    )


def _in_progress(counts: InProgress) -> InProgressView:
    return InProgressView(active=counts.active, on_hold=counts.on_hold)


def _queues(summary: SiteSummary, now: datetime) -> QueuesView:
    queues = summary.queues
    return QueuesView(
        chats=_queue(queues.chats, now),
        calls=_queue(queues.calls, now),
        messages=_queue(queues.messages, now),
    )


def _queue(queue: Queue, now: datetime) -> QueueView:
    since = queue.longest_waiting_since
    seconds = None if since is None else round(max(0.0, (now - since).total_seconds()), 3)
    return QueueView(
        waiting=queue.waiting, longest_waiting_since=since, longest_wait_seconds=seconds
    )


def queue_view(
    site_id: str, entries: list[QueueEntry], version: int, now: datetime
) -> CommunicationQueueView:
    return CommunicationQueueView(
        site_id=site_id,
        version=version,
        as_of=now,
        visitors=[QueueEntryView(**vars(e)) for e in entries],
    )


def settings_view(settings: SiteSettings) -> SiteSettingsView:
    return SiteSettingsView(
        site_id=settings.site_id,
        max_chats=settings.max_chats,
        from_default=settings.from_default,
        operators=[
            OperatorMaxChatsView(operator_id=operator_id, max_chats=own)
            for operator_id, own in settings.operators
        ],
    )


def chat_limit_view(site_id: str, operator_id: str, limit: ChatLimit) -> OperatorChatLimitView:
    return OperatorChatLimitView(
        site_id=site_id,
        operator_id=operator_id,
        site_max_chats=limit.site_max_chats,
        operator_max_chats=limit.operator_max_chats,
        effective_max_chats=limit.effective_max_chats,
    )
