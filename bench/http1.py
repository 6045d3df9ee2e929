"""A lean HTTP/1.1 keep-alive client for the timed open-loop requests.

httpx's pool re-scans every connection for every queued request whenever a request starts or
ends, so when the system under test falls behind and thousands of open-loop requests queue,
the load generator burns a core on bookkeeping — on a 2-core machine, a core taken from the
services it measures. This client does only what the bench needs: POST a JSON body over
keep-alive connections, opening a new one whenever none is idle (up to `limit`), and read the
status and the Content-Length body.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit


class _ClosedUnanswered(ConnectionResetError):
    """The connection closed before any byte of an answer came."""


class Http1Pool:
    def __init__(self, base_url: str, limit: int = 1024) -> None:
        parts = urlsplit(base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self._slots = asyncio.Semaphore(limit)
        self.opened = 0

    async def post_json(self, path: str, body: bytes, token: str) -> int:
        """POST and return the status code (raises OSError/IncompleteReadError on a broken
        connection, which is then dropped).

        A kept-alive connection the server closed as it was reused (uvicorn's keep-alive
        timeout) answers nothing: the request was not read, and goes again on a new
        connection, as browsers do."""
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        async with self._slots:
            while True:
                reused = bool(self._idle)
                try:
                    return await self._exchange(head + body, reused)
                except _ClosedUnanswered:
                    if not reused:
                        raise

    async def _exchange(self, request: bytes, reused: bool) -> int:
        if reused:
            reader, writer = self._idle.pop()
        else:
            reader, writer = await asyncio.open_connection(self.host, self.port)
            self.opened += 1
        try:
            writer.write(request)
            status_line = await reader.readline()
            if not status_line:
                raise _ClosedUnanswered("the server closed the connection without an answer")
            status = int(status_line.split(b" ", 2)[1])
            length, close = 0, False
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"connection" and value.strip().lower() == b"close":
                    close = True
            await reader.readexactly(length)
        except BaseException:
            writer.close()
            raise
        if close:
            writer.close()
        else:
            self._idle.append((reader, writer))
        return status

    async def close(self) -> None:
        for _, writer in self._idle:
            writer.close()
        self._idle.clear()
