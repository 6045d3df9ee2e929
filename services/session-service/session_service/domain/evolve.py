"""apply(session, event): how each event changes a session. A session's state is a fold of this."""

from __future__ import annotations

from dataclasses import replace

from livechat_shared.contracts import (
    ChatEnded,
    ChatHeld,
    ChatMessagePosted,
    ChatResumed,
    ChatStarted,
    Event,
    VisitorDisconnected,
    VisitorReconnected,
)

from session_service.domain.model import Session, to_millis


def apply(session: Session | None, event: Event) -> Session | None:
    if isinstance(event, ChatStarted):
        return session or Session(
            session_id=event.session_id,
            site_id=event.site_id,
            visitor_id=event.visitor_id,
            operator_id=event.operator_id,
            channel=event.channel,
            started_at=to_millis(event.occurred_at),
        )
    if session is None:
        return None
    match event:
        case ChatMessagePosted():
            return replace(session, last_seq=max(session.last_seq, event.seq))
        case ChatHeld():
            return replace(session, status="on_hold")
        case ChatResumed():
            return replace(session, status="active")
        case ChatEnded():
            return replace(
                session,
                status="ended",
                ended_at=to_millis(event.occurred_at),
                ended_by=event.ended_by,
                visitor_gone_since=None,
            )
        case VisitorDisconnected():
            return replace(session, visitor_gone_since=to_millis(event.occurred_at))
        case VisitorReconnected():
            return replace(session, visitor_gone_since=None)
    return session
