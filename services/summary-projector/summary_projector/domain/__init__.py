"""The Communication Summary rules, pure: state and event in, state out; no I/O, no clock."""

from summary_projector.domain.counts import summarize, summarize_operator
from summary_projector.domain.evolve import affects_summary, apply
from summary_projector.domain.queue_overview import QueueEntry, communication_queue
from summary_projector.domain.settings import ChatLimit, SiteSettings, chat_limit, site_settings
from summary_projector.domain.state import (
    Offer,
    OperatorStatus,
    QueuedVisitor,
    Session,
    SiteMaxChats,
    SummaryState,
    Waiting,
)
from summary_projector.domain.summary import (
    InProgress,
    Operators,
    OperatorSummary,
    PendingOffer,
    Queue,
    Queues,
    SiteSummary,
)

__all__ = [
    "ChatLimit",
    "InProgress",
    "Offer",
    "OperatorStatus",
    "OperatorSummary",
    "Operators",
    "PendingOffer",
    "Queue",
    "QueueEntry",
    "QueuedVisitor",
    "Queues",
    "Session",
    "SiteMaxChats",
    "SiteSettings",
    "SiteSummary",
    "SummaryState",
    "Waiting",
    "affects_summary",
    "apply",
    "chat_limit",
    "communication_queue",
    "site_settings",
    "summarize",
    "summarize_operator",
]
