"""The session rules, pure: state in, events out; no I/O, no clock, ids passed in."""

from session_service.domain.decide import NewId, decide
from session_service.domain.evolve import apply
from session_service.domain.model import OPEN, EndedBy, Session, Status, to_millis

__all__ = ["OPEN", "EndedBy", "NewId", "Session", "Status", "apply", "decide", "to_millis"]
