"""summarize(state, default_max_chats): count the Communication Summary out of the state."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime

from livechat_shared.contracts import Channel, Presence

from summary_projector.domain.state import OperatorStatus, Session, SummaryState
from summary_projector.domain.summary import (
    InProgress,
    Operators,
    OperatorSummary,
    Queue,
    Queues,
    SiteSummary,
)


def summarize(state: SummaryState, default_max_chats: int) -> SiteSummary:
    chat_load = _chat_load(state)
    presences = Counter(o.presence for o in state.operators.values())
    free = sum(
        1
        for operator_id, o in state.operators.items()
        if o.presence is Presence.ONLINE
        and chat_load[operator_id] < _max_chats(o, default_max_chats)
    )
    return SiteSummary(
        site_id=state.site_id,
        in_progress=_in_progress(state.sessions.values()),
        queues=Queues(
            chats=_queue(w.since for w in state.waiting.values() if w.channel is Channel.CHAT),
            calls=_queue(w.since for w in state.waiting.values() if w.channel is Channel.CALL),
            messages=_queue(state.messages.values()),
        ),
        operators=Operators(
            online=presences[Presence.ONLINE],
            away=presences[Presence.AWAY],
            with_free_capacity=free,
        ),
    )


def summarize_operator(
    state: SummaryState, operator_id: str, default_max_chats: int
) -> OperatorSummary:
    """An operator never heard of is offline with nothing in progress."""
    status = state.operators.get(operator_id, OperatorStatus())
    maximum = _max_chats(status, default_max_chats)
    free_slots = max(0, maximum - _chat_load(state)[operator_id])
    pending = [o for o in state.offers.values() if o.operator_id == operator_id]
    return OperatorSummary(
        operator_id=operator_id,
        presence=status.presence,
        max_chats=maximum,
        in_progress=_in_progress(
            s for s in state.sessions.values() if s.operator_id == operator_id
        ),
        pending_offers=sum(1 for o in pending if not o.invitation),
        pending_invitations=sum(1 for o in pending if o.invitation),
        free_chat_slots=free_slots,
        has_free_capacity=status.presence is Presence.ONLINE and free_slots > 0,
    )


def _max_chats(status: OperatorStatus, default_max_chats: int) -> int:
    return default_max_chats if status.max_chats is None else status.max_chats


def _chat_load(state: SummaryState) -> Counter[str]:
    """Chats (held ones too) plus pending chat offers and invitations, per operator; calls are
    counted apart, as the queue manager does."""
    load: Counter[str] = Counter()
    load.update(s.operator_id for s in state.sessions.values() if s.channel is Channel.CHAT)
    load.update(o.operator_id for o in state.offers.values() if o.channel is Channel.CHAT)
    return load


def _in_progress(sessions: Iterable[Session]) -> InProgress:
    held = Counter(s.on_hold for s in sessions)
    return InProgress(active=held[False], on_hold=held[True])


def _queue(since: Iterable[datetime]) -> Queue:
    moments = list(since)
    return Queue(len(moments), min(moments) if moments else None)
