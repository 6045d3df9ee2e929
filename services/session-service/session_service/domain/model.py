"""A chat session's state: who is in it, where it stands, and since when its visitor is gone."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from livechat_shared.contracts import Channel

Status = Literal["active", "on_hold", "ended"]
EndedBy = Literal["operator", "visitor", "visitor_gone", "system"]
Role = Literal["operator", "visitor"]

OPEN: tuple[Status, ...] = ("active", "on_hold")
"""Sessions in progress: they count against the operator's capacity (held ones too)."""


@dataclass(frozen=True, slots=True)
class Session:
    session_id: uuid.UUID
    site_id: str
    visitor_id: str
    operator_id: str
    channel: Channel
    started_at: datetime
    status: Status = "active"
    last_seq: int = 0
    """Sequence number of the newest message in the transcript (0: none yet)."""
    ended_at: datetime | None = None
    ended_by: EndedBy | None = None
    visitor_gone_since: datetime | None = None
    """When the visitor's last socket closed, while it has not come back; None when connected."""

    @property
    def is_open(self) -> bool:
        return self.status != "ended"

    def has(self, role: Role, participant_id: str) -> bool:
        """Whether `participant_id` is this session's operator (or visitor)."""
        return participant_id == (self.operator_id if role == "operator" else self.visitor_id)


def to_millis(moment: datetime) -> datetime:
    """The instant to the millisecond.

    Stores keep dates to the millisecond (BSON): recording instants at that precision means
    that what is compared or republished after a round trip is exactly what was decided.
    """
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
