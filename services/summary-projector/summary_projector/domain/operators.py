"""How events move what operators do: sessions in progress (active, on hold), presence, slots."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from livechat_shared.contracts import (
    Channel,
    ChatEnded,
    ChatHeld,
    ChatResumed,
    ChatStarted,
    OperatorCapacityChanged,
    OperatorPresenceChanged,
    OperatorSlotsChanged,
)

from summary_projector.domain.state import OperatorStatus, Session, SummaryState, drop, put


def started(state: SummaryState, event: ChatStarted) -> SummaryState:
    # Session id = the accepted offer's or invitation's id; or picked straight from the queue.
    return replace(
        state,
        offers=drop(state.offers, event.session_id),
        waiting=drop(state.waiting, event.visitor_id),
        visitors=drop(state.visitors, event.visitor_id),
        sessions=put(state.sessions, event.session_id, Session(event.operator_id, event.channel)),
    )


def held_or_resumed(state: SummaryState, event: ChatHeld | ChatResumed) -> SummaryState:
    session = state.sessions.get(event.session_id)
    on_hold = isinstance(event, ChatHeld)
    if session is None or session.on_hold is on_hold:
        return state
    return replace(
        state, sessions=put(state.sessions, event.session_id, replace(session, on_hold=on_hold))
    )


def ended(state: SummaryState, event: ChatEnded) -> SummaryState:
    return (
        replace(state, sessions=drop(state.sessions, event.session_id))
        if event.session_id in state.sessions
        else state
    )


def presence(state: SummaryState, event: OperatorPresenceChanged) -> SummaryState:
    return _operator(
        state, event.operator_id, presence=event.presence, presence_reason=event.reason
    )


def slots(state: SummaryState, event: OperatorSlotsChanged) -> SummaryState:
    """Shown as the queue manager decided them; calls have no place in the summary."""
    if event.channel is not Channel.CHAT:
        return state
    return _operator(
        state, event.operator_id, max_chats=event.max_slots, free_slots=event.free_slots
    )


def own_maximum(state: SummaryState, event: OperatorCapacityChanged) -> SummaryState:
    """The operator's own maximum, shown in the site's settings (None: the site's applies)."""
    return _operator(state, event.operator_id, own_max_chats=event.max_chats)


def _operator(state: SummaryState, operator_id: str, **changes: Any) -> SummaryState:
    current = state.operators.get(operator_id)
    changed = replace(current or OperatorStatus(), **changes)
    if changed == current:
        return state
    return replace(state, operators=put(state.operators, operator_id, changed))
