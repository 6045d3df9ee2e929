"""A tiny hand-flow client for the gateway: an operator console or a visitor, printing each
socket frame as one plain JSON line (no colours) and answering what you type.

    .venv/bin/python -m examples.livechat_cli operator --site acme --operator ann
    .venv/bin/python -m examples.livechat_cli visitor --site acme --name Ada

The operator goes online once its socket is open (presence follows this socket: close it and,
after the grace period, the operator is away); when the gateway goes away (a restart of
`make run`) the console reconnects every second and goes online again. Type `accept` to take
the latest offer — an offer left unanswered for 30 s sets the operator away — or `decline`,
`put-back`, `say TEXT`, `hold`, `resume`, `end`, `next`, `online`, `away`, `quit`.
`--accept` takes every offer at once.
The visitor asks for a chat once its socket is open; each line typed is sent as a message
(`/end` ends the chat, `/quit` leaves). Development only: it mints a token with the
development secret when none is given.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

Frame = dict[str, Any]


@dataclass
class Chat:
    """What the client remembers from its socket, so nobody copies an id by hand."""

    offer_id: str | None = None
    session_id: str | None = None
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when this client is done: the user quit, or the chat it waited for ended."""


def _say(line: str) -> None:
    print(line, flush=True)


def _ws_url(gateway: str, role: str) -> str:
    return gateway.replace("http://", "ws://").replace("https://", "wss://") + f"/v1/{role}/ws"


async def _answer(http: httpx.AsyncClient, what: str, method: str, path: str, **kw: Any) -> None:
    try:
        response = await http.request(method, path, **kw)
    except httpx.HTTPError as error:  # say so and keep the console going
        _say(f"> {what}: failed: {error!r}")
        return
    _say(f"> {what}: {response.status_code} {response.text.strip()[:200]}")


async def _lines() -> asyncio.Queue[str | None]:
    """Standard input as a queue of lines (None at its end), read without blocking the loop."""
    lines: asyncio.Queue[str | None] = asyncio.Queue()
    loop = asyncio.get_running_loop()

    def read() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(lines.put_nowait, line.strip())
        loop.call_soon_threadsafe(lines.put_nowait, None)

    # A daemon thread, not the loop's executor: a blocked read must not hold the exit.
    threading.Thread(target=read, daemon=True).start()
    return lines


FINAL_CLOSE_CODES = {4401, 4429}
"""The gateway refused this token or identity: reconnecting would not help."""

Handler = Callable[[httpx.AsyncClient, Frame], Awaitable[None]]
LineHandler = Callable[[httpx.AsyncClient, str], Awaitable[None]]


async def _run(
    gateway: str,
    role: str,
    token: str,
    handlers: tuple[Handler, LineHandler],
    chat: Chat,
    read_stdin: bool,
    reconnect: bool,
) -> int:
    lines = await _lines() if read_stdin else None
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=gateway, headers=headers, timeout=10.0) as http:
        while True:
            code = await _connection(_ws_url(gateway, role), token, http, handlers, chat, lines)
            if chat.stop.is_set():
                return 0
            if code in FINAL_CLOSE_CODES or not reconnect:
                return 1 if code in FINAL_CLOSE_CODES else 0
            # The gateway restarted or dropped us: a console reconnects (and goes online again).
            _say("# reconnecting in 1 s")
            await asyncio.sleep(1)


async def _connection(
    url: str,
    token: str,
    http: httpx.AsyncClient,
    handlers: tuple[Handler, LineHandler],
    chat: Chat,
    lines: asyncio.Queue[str | None] | None,
) -> int | None:
    """One socket, until it closes or the user is done; its close code (None: never opened)."""
    on_frame, on_line = handlers
    try:
        # The token travels in Sec-WebSocket-Protocol, never in the URL (README, Security).
        async with connect(url, subprotocols=["bearer", token]) as socket:  # type: ignore[list-item]
            listener = asyncio.create_task(_listen(socket, http, on_frame))
            while not listener.done() and not chat.stop.is_set():
                stop = asyncio.create_task(chat.stop.wait())
                line = asyncio.create_task(lines.get()) if lines is not None else None
                waiting = {listener, stop} | ({line} if line is not None else set())
                await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                stop.cancel()
                if line is None:
                    continue
                if not line.done():
                    line.cancel()
                elif (typed := line.result()) is None or typed in ("quit", "/quit"):
                    chat.stop.set()
                elif typed:
                    await on_line(http, typed)
            listener.cancel()
            return socket.close_code
    except (OSError, InvalidHandshake) as error:
        _say(f"# cannot connect: {error}")
        return None


async def _listen(socket: ClientConnection, http: httpx.AsyncClient, on_frame: Handler) -> None:
    try:
        async for raw in socket:
            _say(raw if isinstance(raw, str) else raw.decode())
            await on_frame(http, json.loads(raw))
    except ConnectionClosed:
        pass
    _say(f"# socket closed: {socket.close_code} {socket.close_reason or ''}".rstrip())


def _mint_operator_token(site: str, operator: str) -> str:
    minted = subprocess.run(
        [sys.executable, "-m", "visitor_gateway.tokens", "--site", site, "--operator", operator],
        capture_output=True,
        text=True,
        check=True,
    )
    return minted.stdout.strip()


async def operator(args: argparse.Namespace) -> int:
    token = args.token or os.environ.get("OP") or _mint_operator_token(args.site, args.operator)
    chat = Chat()
    simple = {"decline": "decline", "put-back": "put-back"}

    async def on_frame(http: httpx.AsyncClient, frame: Frame) -> None:
        kind = frame.get("type")
        if kind == "Connected":
            body = {"presence": "online"}
            await _answer(http, "online", "PUT", "/v1/operator/presence", json=body)
        elif kind == "ChatOffered":
            chat.offer_id = frame.get("offer_id")
            if args.accept:
                await on_line(http, "accept")
        elif kind == "ChatStarted":
            chat.session_id = frame.get("session_id")
        elif kind == "ChatEnded" and args.exit_after_chat:
            chat.stop.set()

    async def on_line(http: httpx.AsyncClient, line: str) -> None:
        word, _, rest = line.partition(" ")
        session = f"/v1/operator/sessions/{chat.session_id}"
        if word == "accept" or word in simple:
            if chat.offer_id is None:
                _say("# no offer yet")
                return
            action = simple.get(word, "accept")
            path = f"/v1/operator/offers/{chat.offer_id}/{action}"
            await _answer(http, f"{action} {chat.offer_id}", "POST", path)
        elif word in ("online", "away"):
            body = {"presence": word}
            await _answer(http, word, "PUT", "/v1/operator/presence", json=body)
        elif word == "next":
            body = {"channel": rest or "chat"}
            await _answer(http, "next", "POST", "/v1/operator/next", json=body)
        elif chat.session_id is None:
            _say(f"# {word}: no chat yet (wait for ChatStarted)")
        elif word == "say":
            body = {"client_message_id": str(uuid.uuid4()), "text": rest}
            await _answer(http, "say", "POST", f"{session}/messages", json=body)
        elif word in ("hold", "resume", "end"):
            await _answer(http, word, "POST", f"{session}/{word}")
        else:
            _say(
                "# commands: accept decline put-back say TEXT hold resume end next online away quit"
            )

    handlers = (on_frame, on_line)
    return await _run(args.gateway, "operator", token, handlers, chat, not args.no_input, True)


async def visitor(args: argparse.Namespace) -> int:
    async with httpx.AsyncClient(base_url=args.gateway, timeout=10.0) as http:
        created = await http.post(f"/v1/sites/{args.site}/visitors")
        created.raise_for_status()
        token = created.json()["token"]
    chat = Chat()
    said = False

    async def on_frame(http: httpx.AsyncClient, frame: Frame) -> None:
        nonlocal said
        kind = frame.get("type")
        if kind == "Connected":
            body = {"channel": args.channel, "badge": {"name": args.name}}
            await _answer(http, "chat request", "POST", "/v1/visitor/chat-requests", json=body)
        elif kind == "ChatStarted":
            chat.session_id = frame.get("session_id")
            if args.say and not said:
                said = True
                await on_line(http, args.say)
        elif kind == "ChatEnded":
            chat.stop.set()

    async def on_line(http: httpx.AsyncClient, line: str) -> None:
        if chat.session_id is None:
            _say("# no chat yet (wait for ChatStarted)")
            return
        session = f"/v1/visitor/sessions/{chat.session_id}"
        if line == "/end":
            await _answer(http, "end", "POST", f"{session}/end")
        else:
            body = {"client_message_id": str(uuid.uuid4()), "text": line}
            await _answer(http, "sent", "POST", f"{session}/messages", json=body)

    handlers = (on_frame, on_line)
    return await _run(args.gateway, "visitor", token, handlers, chat, not args.no_input, False)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--gateway", default=os.environ.get("GATEWAY", "http://127.0.0.1:8001"))
    roles = parser.add_subparsers(dest="role", required=True)
    as_operator = roles.add_parser("operator", help="an operator console")
    as_operator.add_argument("--site", default="acme")
    as_operator.add_argument("--operator", default="ann")
    as_operator.add_argument("--token", help="default: $OP, else a development token")
    as_operator.add_argument("--accept", action="store_true", help="accept every offer at once")
    as_operator.add_argument("--exit-after-chat", action="store_true", help="leave at ChatEnded")
    as_visitor = roles.add_parser("visitor", help="a visitor asking for a chat")
    as_visitor.add_argument("--site", default="acme")
    as_visitor.add_argument("--name", default="Ada")
    as_visitor.add_argument("--channel", default="chat", choices=["chat", "call"])
    as_visitor.add_argument("--say", help="send this once the chat started")
    for sub in (as_operator, as_visitor):
        sub.add_argument("--no-input", action="store_true", help="do not read standard input")
    args = parser.parse_args()
    run = operator if args.role == "operator" else visitor
    try:
        return asyncio.run(run(args))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
