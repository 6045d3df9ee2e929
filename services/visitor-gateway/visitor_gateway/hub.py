"""The sockets this replica holds, and delivery of consumed events to them."""

from __future__ import annotations

import json
import logging
from collections import defaultdict

from fastapi import WebSocket
from livechat_shared.contracts import Message, QueuePositionsChanged

from visitor_gateway.delivery import Recipient, position_frames, recipients

log = logging.getLogger(__name__)


class Hub:
    def __init__(self) -> None:
        self._sockets: dict[Recipient, set[WebSocket]] = defaultdict(set)
        # The latest place of every listed waiting visitor, so a visitor who reconnects
        # (to any replica: each one consumes every update) learns it at once.
        self._places: dict[Recipient, dict[str, object]] = {}
        self._listed: dict[tuple[str, str], list[Recipient]] = {}

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

    def place_of(self, who: Recipient) -> dict[str, object] | None:
        return self._places.get(who)

    async def deliver(self, message: Message) -> None:
        if isinstance(message, QueuePositionsChanged):
            await self._positions(message)
            return
        payload = message.model_dump_json()
        for who in recipients(message):
            await self._send(who, payload)

    async def _positions(self, update: QueuePositionsChanged) -> None:
        board = (update.site_id, update.channel.value)
        for who in self._listed.pop(board, []):
            self._places.pop(who, None)
        frames = position_frames(update)
        self._listed[board] = [who for who, _ in frames]
        for who, frame in frames:
            self._places[who] = frame
            await self._send(who, json.dumps(frame))

    async def _send(self, who: Recipient, payload: str) -> None:
        for socket in list(self._sockets.get(who, ())):
            try:
                await socket.send_text(payload)
            except Exception:  # the socket went away under us; its handler cleans up
                log.info("dropping a closed socket", extra={"role": who[1]})
                self.remove(who, socket)
