"""The sockets this replica holds, and delivery of consumed events to them.

Delivery never waits on a socket: each socket has its own bounded outbox and writer
(outbox.py), so a client that stops reading is closed and the others carry on.
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Sequence

from fastapi import WebSocket
from livechat_shared.contracts import Message, QueuePositionsChanged

from visitor_gateway.adapters.outbox import Outbox
from visitor_gateway.domain.delivery import Recipient, position_frame, recipients, resync_frame

log = logging.getLogger(__name__)

RECENT_MESSAGES = 10_000
"""Message ids delivered lately. A service that handles a redelivered message publishes its
events again (same ids), and such a copy can arrive after newer events: a console shown it
again would go back in time (an operator shown *away* again after going online)."""


class Hub:
    def __init__(self, buffer_frames: int = 256, send_timeout_seconds: float = 10.0) -> None:
        self._buffer_frames = buffer_frames
        self._send_timeout = send_timeout_seconds
        self._sockets: dict[Recipient, dict[WebSocket, Outbox]] = defaultdict(dict)
        # The latest place of every listed waiting visitor, so a visitor who reconnects
        # (to any replica: each one consumes every update) learns it at once.
        # each waiting visitor's latest update and index in it: its frame is built only when
        # a socket of its own is here to take it
        self._places: dict[Recipient, tuple[QueuePositionsChanged, int]] = {}
        self._listed: dict[tuple[str, str], list[Recipient]] = {}
        self._delivered: OrderedDict[str, None] = OrderedDict()

    def add(self, who: Recipient, socket: WebSocket, first_frames: Sequence[str] = ()) -> bool:
        """Register a socket, queueing `first_frames` ahead of any event; True if it is this
        recipient's first socket here."""
        first = not self._sockets[who]
        outbox = Outbox(socket, self._buffer_frames, self._send_timeout, self._dropped(who))
        for frame in first_frames:
            outbox.put(frame)
        self._sockets[who][socket] = outbox
        return first

    def remove(self, who: Recipient, socket: WebSocket) -> bool:
        """Forget a socket; True if the recipient has no socket left here."""
        sockets = self._sockets.get(who)
        if sockets is None:
            return True
        outbox = sockets.pop(socket, None)
        if outbox is not None:
            outbox.stop()
        if not sockets:
            del self._sockets[who]
            return True
        return False

    def finish(self, who: Recipient, socket: WebSocket, code: int, reason: str) -> None:
        """Close a socket after the frames already queued for it."""
        outbox = self._sockets.get(who, {}).get(socket)
        if outbox is not None:
            outbox.finish(code, reason)

    async def until_dropped(self, who: Recipient, socket: WebSocket) -> None:
        """Returns when the hub gave up on this socket because it fell behind."""
        outbox = self._sockets.get(who, {}).get(socket)
        if outbox is not None:
            await outbox.wait_closed()

    def connected(self) -> int:
        return sum(len(s) for s in self._sockets.values())

    def holders(self) -> list[Recipient]:
        """Everyone with at least one socket on this replica."""
        return [who for who, sockets in self._sockets.items() if sockets]

    def operators_by_site(self) -> dict[str, list[Recipient]]:
        """The operators with a console socket here, by site."""
        found: dict[str, list[Recipient]] = defaultdict(list)
        for who, sockets in self._sockets.items():
            if who[1] == "operator" and sockets:
                found[who[0]].append(who)
        return dict(found)

    def tell(self, who: Recipient, payload: str) -> None:
        """Queue a frame the gateway made itself (not an event) for the recipient's sockets."""
        self._send(who, payload)

    def holds(self, who: Recipient) -> bool:
        return bool(self._sockets.get(who))

    def place_of(self, who: Recipient) -> dict[str, object] | None:
        place = self._places.get(who)
        return None if place is None else position_frame(*place)

    async def deliver(self, message: Message) -> None:
        """Queue the message for its recipients' sockets; never waits on a socket. A message
        delivered before (a republished copy) is not delivered again."""
        if self._seen(str(message.message_id)):
            return
        if isinstance(message, QueuePositionsChanged):
            self._positions(message)
            return
        # Serialized only for a recipient with a socket on this replica: every replica gets
        # every event, and most are for sockets another replica holds.
        here = [who for who in recipients(message) if self._sockets.get(who)]
        if here:
            payload = message.model_dump_json()
            for who in here:
                self._send(who, payload)

    def _seen(self, message_id: str) -> bool:
        if message_id in self._delivered:
            return True
        self._delivered[message_id] = None
        if len(self._delivered) > RECENT_MESSAGES:
            self._delivered.popitem(last=False)
        return False

    async def resync_all(self, reason: str) -> None:
        """Tell every socket that events may have been missed (the consumer reconnected),
        and what to re-read."""
        for who in list(self._sockets):
            self._send(who, json.dumps(resync_frame(who, reason)))
            if (place := self.place_of(who)) is not None:
                self._send(who, json.dumps(place))

    def _positions(self, update: QueuePositionsChanged) -> None:
        board = (update.site_id, update.channel.value)
        for who in self._listed.pop(board, []):
            self._places.pop(who, None)
        listed: list[Recipient] = [(update.site_id, "visitor", v) for v in update.waiting]
        self._listed[board] = listed
        for index, who in enumerate(listed):
            self._places[who] = (update, index)  # for every visitor: a socket may open here later
            if self._sockets.get(who):
                self._send(who, json.dumps(position_frame(update, index)))

    def _send(self, who: Recipient, payload: str) -> None:
        for outbox in list(self._sockets.get(who, {}).values()):
            outbox.put(payload)

    def _dropped(self, who: Recipient) -> Callable[[Outbox], None]:
        def forget(outbox: Outbox) -> None:
            self.remove(who, outbox.socket)

        return forget
