"""The Communication Queue overview: every waiting or offered visitor, oldest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from livechat_shared.contracts import Channel, VisitorBadge

from summary_projector.domain.state import SummaryState


@dataclass(frozen=True)
class QueueEntry:
    visitor_id: str
    channel: Channel
    waiting_since: datetime
    seconds_in_queue: float
    badge: VisitorBadge
    status: Literal["waiting", "offered"]
    offered_to: str | None


def communication_queue(state: SummaryState, now: datetime) -> list[QueueEntry]:
    offered = {o.visitor_id: o.operator_id for o in state.offers.values() if not o.invitation}
    entries = [
        QueueEntry(
            visitor_id=visitor_id,
            channel=v.channel,
            waiting_since=v.since,
            seconds_in_queue=max(0.0, round((now - v.since).total_seconds(), 1)),
            badge=v.badge,
            status="offered" if visitor_id in offered else "waiting",
            offered_to=offered.get(visitor_id),
        )
        for visitor_id, v in state.visitors.items()
        if visitor_id in offered or visitor_id in state.waiting
    ]
    return sorted(entries, key=lambda e: (e.waiting_since, e.visitor_id))
