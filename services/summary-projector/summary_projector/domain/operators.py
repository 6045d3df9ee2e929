"""How events move what operators do: sessions in progress (active, on hold), presence, slots.

Each rule changes the state in place and says whether it changed anything.
"""

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

from summary_projector.domain.state import OperatorStatus, Session, SummaryState


def started(state: SummaryState, event: ChatStarted) -> bool:
    # Session id = the accepted offer's or invitation's id; or picked straight from the queue.
    session = Session(event.operator_id, event.channel)
    gone = (
        state.offers.pop(event.session_id, None),
        state.waiting.pop(event.visitor_id, None),
        state.visitors.pop(event.visitor_id, None),
    )
    if state.sessions.get(event.session_id) == session and gone == (None, None, None):
        return False
    state.sessions[event.session_id] = session
    return True


def held_or_resumed(state: SummaryState, event: ChatHeld | ChatResumed) -> bool:
    session = state.sessions.get(event.session_id)
    on_hold = isinstance(event, ChatHeld)
    if session is None or session.on_hold is on_hold:
        return False
    state.sessions[event.session_id] = replace(session, on_hold=on_hold)
    return True


def ended(state: SummaryState, event: ChatEnded) -> bool:
    return state.sessions.pop(event.session_id, None) is not None


def presence(state: SummaryState, event: OperatorPresenceChanged) -> bool:
    return _operator(
        state, event.operator_id, presence=event.presence, presence_reason=event.reason
    )


def slots(state: SummaryState, event: OperatorSlotsChanged) -> bool:
    """Shown as the queue manager decided them; calls have no place in the summary."""
    if event.channel is not Channel.CHAT:
        return False
    return _operator(
        state, event.operator_id, max_chats=event.max_slots, free_slots=event.free_slots
    )


def own_maximum(state: SummaryState, event: OperatorCapacityChanged) -> bool:
    """The operator's own maximum, shown in the site's settings (None: the site's applies)."""
    return _operator(state, event.operator_id, own_max_chats=event.max_chats)


def _operator(state: SummaryState, operator_id: str, **changes: Any) -> bool:
    current = state.operators.get(operator_id)
    changed = replace(current or OperatorStatus(), **changes)
    if changed == current:
        return False
    state.operators[operator_id] = changed
    return True
