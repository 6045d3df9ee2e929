"""The bench's lean HTTP client sends a request again when a kept-alive connection was closed
by the server as it was reused (else the request vanished: no answer, no offer)."""

from __future__ import annotations

import asyncio

from bench.http1 import Http1Pool


async def test_a_request_on_a_connection_the_server_closed_goes_again_on_a_new_one() -> None:
    answered = 0

    async def answer_once_then_close(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        nonlocal answered
        await reader.readuntil(b"\r\n\r\n")
        await reader.readexactly(2)  # the body, "{}"
        answered += 1
        writer.write(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        # keep-alive as far as the client knows; then the server's idle timeout closes it
        writer.close()

    server = await asyncio.start_server(answer_once_then_close, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    pool = Http1Pool(f"http://127.0.0.1:{port}")
    try:
        assert await pool.post_json("/x", b"{}", "token") == 202
        await asyncio.sleep(0.05)  # the close reaches the client's idle connection
        assert await pool.post_json("/x", b"{}", "token") == 202
    finally:
        await pool.close()
        server.close()
        await server.wait_closed()
    assert answered == 2
    assert pool.opened == 2
