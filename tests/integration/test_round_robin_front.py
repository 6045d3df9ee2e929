"""The fault suite's round-robin front (a Kubernetes Service's stand-in): each new connection
goes to the next replica, and to the one after when a replica refuses it."""

from __future__ import annotations

import socket
import socketserver
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.support.processes import free_port
from tests.support.round_robin import RoundRobinFront
from tests.support.servers import serving

pytestmark = pytest.mark.integration


@contextmanager
def replica(name: bytes) -> Iterator[int]:
    """A server that answers every connection with its name."""

    class Answer(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            self.request.sendall(name)

    with serving(socketserver.ThreadingTCPServer(("127.0.0.1", 0), Answer)) as port:
        yield port


def answer(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        return connection.recv(16)


def test_connections_take_turns_and_skip_a_replica_that_refuses() -> None:
    with replica(b"zero") as zero, replica(b"one") as one:
        down = free_port()  # nothing listens: the connection is refused
        front = RoundRobinFront([zero, down, one]).start()
        try:
            answers = [answer(front.port) for _ in range(4)]
        finally:
            front.stop()
    assert answers == [b"zero", b"one", b"zero", b"one"]
    assert front.refused == 2
