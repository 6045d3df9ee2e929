"""Projects domain events into the Communication Summary (thin for now)."""

from __future__ import annotations

import logging
from collections import Counter

from livechat_shared.contracts import Message

log = logging.getLogger(__name__)


class Handler:
    """Counts what it consumed by type; the full behaviour lands with its own issue."""

    def __init__(self) -> None:
        self.seen: Counter[str] = Counter()

    async def handle(self, message: Message) -> None:
        self.seen[message.type_name()] += 1
        log.info("consumed", extra={"type": message.type_name(), "site_id": message.site_id})
