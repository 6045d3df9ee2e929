"""The read models served over HTTP and on the stream: this service's own, not shared contracts."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from livechat_shared.contracts import Channel, Presence, VisitorBadge
from pydantic import BaseModel, ConfigDict, Field

from summary_projector.domain import InProgress, OperatorSummary, Queue, QueueEntry, SiteSummary


class _View(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class InProgressView(_View):
    active: int = Field(ge=0, description="Chats and calls in progress, not on hold.")
    on_hold: int = Field(ge=0, description="Chats and calls on hold (they still take capacity).")


class QueueView(_View):
    waiting: int = Field(ge=0)
    longest_waiting_since: datetime | None = Field(description="When the oldest one came.")
    longest_wait_seconds: float | None = Field(description="How long it has waited, at as_of.")


class QueuesView(_View):
    chats: QueueView
    calls: QueueView
    messages: QueueView = Field(description="Offline messages left and not taken yet.")


class OperatorsView(_View):
    online: int = Field(ge=0)
    away: int = Field(ge=0)
    with_free_capacity: int = Field(ge=0, description="Online, with room for another chat.")


class _Summary(_View):
    site_id: str
    version: int = Field(ge=0, description="Changes applied to this site's summary so far.")
    as_of: datetime = Field(description="When this summary was read; the seconds count to it.")


class SiteSummaryView(_Summary):
    view: Literal["full"] = "full"
    in_progress: InProgressView
    queues: QueuesView
    operators: OperatorsView


class MinimizedSummaryView(_Summary):
    view: Literal["minimized"] = "minimized"
    queues: QueuesView


class OperatorSummaryView(_Summary):
    operator_id: str
    presence: Presence
    max_chats: int = Field(ge=1, description="Its own maximum, or the site-wide default.")
    in_progress: InProgressView
    pending_offers: int = Field(ge=0, description="Incoming chat requests awaiting its answer.")
    pending_invitations: int = Field(ge=0, description="Its invitations awaiting the visitor.")
    free_chat_slots: int = Field(ge=0)
    has_free_capacity: bool = Field(description="Online, and a free chat slot.")


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


class QueueEntryView(_View):
    visitor_id: str
    channel: Channel
    waiting_since: datetime
    seconds_in_queue: float
    badge: VisitorBadge
    status: Literal["waiting", "offered"]
    offered_to: str | None


class CommunicationQueueView(_View):
    """The Communication Queue overview: waiting and offered visitors, oldest first."""

    site_id: str
    version: int
    as_of: datetime
    visitors: list[QueueEntryView]


def queue_view(
    site_id: str, entries: list[QueueEntry], version: int, now: datetime
) -> CommunicationQueueView:
    return CommunicationQueueView(
        site_id=site_id,
        version=version,
        as_of=now,
        visitors=[QueueEntryView(**vars(e)) for e in entries],
    )
