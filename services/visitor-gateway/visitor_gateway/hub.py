"""The sockets this replica holds, and delivery of consumed events to them."""

from __future__ import annotations

import logging
from collections import defaultdict

from fastapi import WebSocket
from livechat_shared.contracts import Message

from visitor_gateway.delivery import Recipient, recipients

log = logging.getLogger(__name__)


class Hub:
    def __init__(self) -> None:
        self._sockets: dict[Recipient, set[WebSocket]] = defaultdict(set)

    def add(self, who: Recipient, socket: WebSocket) -> bool:
        """Register a socket; True if it is this recipient's first one here."""
        first = not self._sockets[who]
        self._sockets[who].add(socket)
        return first

    def remove(self, who: Recipient, socket: WebSocket) -> bool:
        """Forget a socket; True if the recipient has no socket left here."""
        sockets = self._sockets.get(who)
        if sockets is None:
            return True
        sockets.discard(socket)
        if not sockets:
            del self._sockets[who]
            return True
        return False

    def connected(self) -> int:
        return sum(len(s) for s in self._sockets.values())

    async def deliver(self, message: Message) -> None:
        payload = message.model_dump_json()
        for who in recipients(message):
            for socket in list(self._sockets.get(who, ())):
                try:
                    await socket.send_text(payload)
                except Exception:  # the socket went away under us; its handler cleans up
                    log.info("dropping a closed socket", extra={"role": who[1]})
                    self.remove(who, socket)
