"""One socket's outgoing frames: a bounded buffer and its own writer, so no socket waits on another.

The consumer only puts frames in; the writer sends them one at a time, each within a timeout. A
socket that falls behind (its buffer is full, or one send takes longer than the timeout) is closed
with a reason: its client reconnects and re-reads (see the `Resync` frame), the others never wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from fastapi import WebSocket

log = logging.getLogger(__name__)

BUFFER_FULL = 1013
"""'Try again later' (RFC 6455): the socket fell too far behind; reconnect and re-read."""
SEND_TIMEOUT = 4408
"""Application code: one frame could not be written within the send timeout."""


_closing: set[asyncio.Task[None]] = set()
"""Close attempts under way: held here so they finish after the hub forgot their socket."""


class Outbox:
    def __init__(
        self,
        socket: WebSocket,
        size: int,
        send_timeout: float,
        on_closed: Callable[[Outbox], None],
    ) -> None:
        self.socket = socket
        # frames, then at most one close (code, reason) that goes after them
        self._frames: asyncio.Queue[str | tuple[int, str]] = asyncio.Queue(maxsize=size)
        self._send_timeout = send_timeout
        self._on_closed = on_closed
        self._closed = asyncio.Event()
        self._writer = asyncio.create_task(self._write())

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def put(self, payload: str) -> None:
        """Queue a frame; never waits. A full buffer closes this socket, not the caller."""
        if self.closed:
            return
        try:
            self._frames.put_nowait(payload)
        except asyncio.QueueFull:
            self._give_up(BUFFER_FULL, "too slow: the send buffer is full; reconnect and resync")

    def finish(self, code: int, reason: str) -> None:
        """Close the socket once the frames queued before are sent (never waits)."""
        if self.closed:
            return
        try:
            self._frames.put_nowait((code, reason))
        except asyncio.QueueFull:
            self._give_up(code, reason)

    async def wait_closed(self) -> None:
        """Returns once the gateway gave up on this socket (its handler then ends)."""
        await self._closed.wait()

    def stop(self) -> None:
        """The socket is gone (the client left): stop writing, drop what is queued."""
        self._closed.set()
        self._writer.cancel()

    async def _write(self) -> None:
        while True:
            payload = await self._frames.get()
            if isinstance(payload, tuple):
                await self._close(*payload)
                self._closed.set()
                return
            try:
                async with asyncio.timeout(self._send_timeout):
                    await self.socket.send_text(payload)
            except TimeoutError:
                self._give_up(SEND_TIMEOUT, "too slow: a send timed out; reconnect and resync")
                return
            except Exception:  # the client went away: its handler cleans up
                self._closed.set()
                return

    def _give_up(self, code: int, reason: str) -> None:
        if self.closed:
            return
        log.warning("closing a socket that falls behind", extra={"code": code, "reason": reason})
        self._closed.set()
        if asyncio.current_task() is not self._writer:
            self._writer.cancel()
        self._on_closed(self)
        # The close frame itself waits for room in the same stuck connection: bounded, in its
        # own task, so neither the consumer nor this socket's handler waits on it.
        closing = asyncio.create_task(self._close(code, reason))
        _closing.add(closing)
        closing.add_done_callback(_closing.discard)

    async def _close(self, code: int, reason: str) -> None:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(self._send_timeout):
                await self.socket.close(code=code, reason=reason)
