"""A small socket server of a test's own, served from a thread while the test runs."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def serving(server: socketserver.BaseServer) -> Iterator[int]:
    """Serve `server` (bound to port 0) on a daemon thread; yield its port; shut it down."""
    address = server.server_address
    assert isinstance(address, tuple), address
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(address[1])
    finally:
        server.shutdown()
        server.server_close()
