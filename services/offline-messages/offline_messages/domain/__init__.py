"""The Message Queue's pure rules: who may take, answer and close an offline message."""

from offline_messages.domain.model import STATUSES, WAITING, OfflineMessage, Status
from offline_messages.domain.rules import (
    CLOSED,
    NO_SUCH_MESSAGE,
    NOT_TAKEN,
    NOTHING_WAITING,
    TAKEN_BY_ANOTHER,
    apply,
    decide,
    left,
    nothing_waiting,
    taken,
    taken_event,
)

__all__ = [
    "CLOSED",
    "NOTHING_WAITING",
    "NOT_TAKEN",
    "NO_SUCH_MESSAGE",
    "STATUSES",
    "TAKEN_BY_ANOTHER",
    "WAITING",
    "OfflineMessage",
    "Status",
    "apply",
    "decide",
    "left",
    "nothing_waiting",
    "taken",
    "taken_event",
]
