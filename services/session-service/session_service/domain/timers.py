"""The session's one timer: a chat whose visitor is gone ends after the grace period, unless the
visitor came back. Started when the service keeps a VisitorDisconnected, re-armed from state."""

from __future__ import annotations

import uuid
from datetime import datetime

from livechat_shared.contracts import EndChatIfVisitorGone, VisitorDisconnected
from livechat_shared.contracts.timers import Timer

from session_service.domain.decide import NewId
from session_service.domain.model import Session


def visitor_gone_check(event: VisitorDisconnected, grace_seconds: float, new_id: NewId) -> Timer:
    """The check a kept VisitorDisconnected starts; all derived from the event, so a
    redelivery starts the very same check again."""
    check = EndChatIfVisitorGone(
        command_id=new_id(f"{event.event_id}/EndChatIfVisitorGone"),
        occurred_at=event.occurred_at,
        site_id=event.site_id,
        correlation_id=event.correlation_id,
        visitor_id=event.visitor_id,
        disconnected_at=event.occurred_at,
    )
    return Timer(check, grace_seconds)


def rearmed_visitor_gone_check(
    session: Session, grace_seconds: float, now: datetime, check_id: uuid.UUID
) -> Timer:
    """The check of a session whose visitor is gone, armed again after a start, for what is
    left of the grace. A fresh id, so it is decided even if the first copy was."""
    assert session.visitor_gone_since is not None
    check = EndChatIfVisitorGone(
        command_id=check_id,
        site_id=session.site_id,
        correlation_id=str(session.session_id),
        visitor_id=session.visitor_id,
        disconnected_at=session.visitor_gone_since,
    )
    elapsed = (now - session.visitor_gone_since).total_seconds()
    return Timer.rearmed(check, grace_seconds, grace_seconds - elapsed)
