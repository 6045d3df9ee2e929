"""A round-robin TCP front for a service's replicas: what a Kubernetes Service is to its pods.

The gateway takes one URL per service; in the partitioned fault run each of the session service,
offline messages and the summary projector has two replicas, and any one may answer a read. The
front takes each new connection to the next replica in turn, tries the one after when a replica
refuses the connection (killed, not restarted yet), and then copies bytes both ways until either
side closes. An HTTP keep-alive connection stays with its replica, as through kube-proxy; when the
replica dies, the connection closes and the client's next one goes to a live replica.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
from collections.abc import Sequence

from tests.support.processes import free_port


class RoundRobinFront:
    """Listens on 127.0.0.1:`port` in a thread of its own; `start()`, `stop()`, `url`."""

    def __init__(self, backends: Sequence[int], connect_timeout: float = 2.0) -> None:
        self.backends = list(backends)
        self.port = free_port()
        self.connect_timeout = connect_timeout
        self.connections = 0
        self.refused = 0
        """Connections a replica refused (the front went on to the next one)."""
        self._turn = itertools.cycle(range(len(self.backends)))
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> RoundRobinFront:
        self._thread.start()
        listening = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._serve, "127.0.0.1", self.port), self._loop
        )
        self._server = listening.result(10)
        return self

    def stop(self) -> None:
        async def close() -> None:
            if self._server is not None:
                self._server.close()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self._server.wait_closed(), 2)

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        """The next replica that accepts the connection; None if every one refuses."""
        for _ in range(len(self.backends)):
            port = self.backends[next(self._turn)]
            try:
                return await asyncio.wait_for(
                    asyncio.open_connection("127.0.0.1", port), self.connect_timeout
                )
            except (OSError, TimeoutError):
                self.refused += 1
        return None

    async def _serve(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        self.connections += 1
        replica = await self._open()
        if replica is None:
            client_out.close()
            return
        replica_in, replica_out = replica
        await asyncio.gather(
            _copy(client_in, replica_out), _copy(replica_in, client_out), return_exceptions=True
        )


async def _copy(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    try:
        while chunk := await source.read(65536):
            sink.write(chunk)
            await sink.drain()
    finally:
        # one side ended (or broke): end the other, so neither waits on a dead replica
        with contextlib.suppress(Exception):
            sink.close()
