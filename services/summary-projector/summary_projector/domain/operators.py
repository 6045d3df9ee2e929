"""How events move what operators do: sessions in progress (active, on hold), presence, capacity."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from livechat_shared.contracts import (
    ChatEnded,
    ChatHeld,
    ChatResumed,
    ChatStarted,
    OperatorCapacityChanged,
    OperatorPresenceChanged,
)

from summary_projector.domain.state import OperatorStatus, Session, SummaryState, drop, put


def started(s: SummaryState, e: ChatStarted) -> SummaryState:
    # Session id = the accepted offer's or invitation's id; or picked straight from the queue.
    return replace(
        s,
        offers=drop(s.offers, e.session_id),
        waiting=drop(s.waiting, e.visitor_id),
        visitors=drop(s.visitors, e.visitor_id),
        sessions=put(s.sessions, e.session_id, Session(e.operator_id, e.channel)),
    )


def held_or_resumed(s: SummaryState, e: ChatHeld | ChatResumed) -> SummaryState:
    session = s.sessions.get(e.session_id)
    on_hold = isinstance(e, ChatHeld)
    if session is None or session.on_hold is on_hold:
        return s
    return replace(s, sessions=put(s.sessions, e.session_id, replace(session, on_hold=on_hold)))


def ended(s: SummaryState, e: ChatEnded) -> SummaryState:
    return replace(s, sessions=drop(s.sessions, e.session_id)) if e.session_id in s.sessions else s


def presence(s: SummaryState, e: OperatorPresenceChanged) -> SummaryState:
    return _operator(s, e.operator_id, presence=e.presence)


def capacity(s: SummaryState, e: OperatorCapacityChanged) -> SummaryState:
    return _operator(s, e.operator_id, max_chats=e.max_chats)


def _operator(s: SummaryState, operator_id: str, **changes: Any) -> SummaryState:
    current = s.operators.get(operator_id)
    changed = replace(current or OperatorStatus(), **changes)
    if changed == current:
        return s
    return replace(s, operators=put(s.operators, operator_id, changed))
