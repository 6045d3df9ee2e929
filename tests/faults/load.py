"""The people of the load: operators' consoles and visitors' widgets, and how they behave."""

from __future__ import annotations

import asyncio
import contextlib
import random
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from visitor_gateway.domain.auth import Caller, issue

from tests.faults.edge import Crowd, Edge, Frame, Socket


@dataclass
class Behaviour:
    """How the consoles behave in this phase of the run; the scenario changes it."""

    accepting: bool = True
    ending_chats: asyncio.Event = field(default_factory=asyncio.Event)
    """Set while operators end their chats after a while; cleared to let every operator fill up."""
    keep_online: bool = True
    ignore_window: tuple[float, float] = (0.0, 0.0)
    """Offers that arrive in this (loop time) window are not answered: nobody at the desk."""
    decline_share: float = 0.1
    declined_visitors: set[str] = field(default_factory=set)
    """A visitor is declined at most once: declined by every operator of its site, it would
    rightly never be offered again, and the run could not settle."""
    chat_seconds: tuple[float, float] = (2.0, 5.0)


class OperatorConsole:
    def __init__(
        self, edge: Edge, crowd: Crowd, behaviour: Behaviour, site_id: str, operator_id: str
    ) -> None:
        self.edge, self.crowd, self.behaviour = edge, crowd, behaviour
        self.site_id, self.id = site_id, operator_id
        caller = Caller(role="operator", site_id=site_id, subject=operator_id)
        self.token = issue(TOKEN_SECRET, caller, timedelta(hours=2))
        self.socket = Socket(edge, "/v1/operator/ws", self.token, self._on_frame)
        self.offers_seen: set[str] = set()
        self.presence_seen: str | None = None
        self.presence_from = ""
        """Where the console learnt it: a socket frame, or re-reading summary/me (and when)."""
        self.ignored = 0
        self.ignored_in_window = 0
        self.declined = 0
        self.back_online = 0
        self.away_frames = 0
        self.connections = 0
        self.resyncs = 0
        self.rejected: list[str] = []
        self.long_chat = ""

    async def open(self) -> None:
        self.socket.open()
        await asyncio.wait_for(self.socket.connected.wait(), 30)

    async def set_presence(self, presence: str) -> bool:
        response = await self.edge.request(
            "PUT", "/v1/operator/presence", self.token, {"presence": presence}
        )
        return response is not None and response.status_code == 202

    def _on_frame(self, frame: Frame) -> None:
        kind = frame.get("type")
        if kind == "ChatOffered":
            self.offers_seen.add(frame["offer_id"])
            start, end = self.behaviour.ignore_window
            if start <= asyncio.get_running_loop().time() <= end:
                self.ignored_in_window += 1
            elif not self.behaviour.accepting:
                self.ignored += 1
            else:
                self.crowd.spawn(self._answer(frame))
        elif kind == "ChatStarted":
            self.crowd.spawn(self._lead(frame))
        elif kind == "OperatorPresenceChanged":
            self.presence_seen = frame["presence"]
            self.presence_from = f"a frame at {asyncio.get_running_loop().time():.1f}"
            self.away_frames += frame["presence"] == "away"
            if frame["presence"] == "away" and self.behaviour.keep_online:
                self.crowd.spawn(self._back_online())
        elif kind == "CommandRejected":
            self.rejected.append(f"{frame.get('command_type')}: {frame.get('reason')}")
        elif isinstance(kind, str) and kind.startswith("Resync"):
            self.resyncs += 1
            self.crowd.spawn(self._resync())
        elif kind == "Connected":
            # a console that connects again re-reads its state: what happened meanwhile never
            # reached this socket
            if self.connections:
                self.crowd.spawn(self._resync())
            self.connections += 1

    async def _answer(self, offer: Frame) -> None:
        await asyncio.sleep(random.uniform(0.2, 1.0))
        answer = "accept"
        declined = self.behaviour.declined_visitors
        if offer["visitor_id"] not in declined and random.random() < self.behaviour.decline_share:
            answer = "decline"
            declined.add(offer["visitor_id"])
            self.declined += 1
        await self.edge.request(
            "POST", f"/v1/operator/offers/{offer['offer_id']}/{answer}", self.token
        )

    async def _lead(self, started: Frame) -> None:
        session = started["session_id"]
        await self.edge.request(
            "POST",
            f"/v1/operator/sessions/{session}/messages",
            self.token,
            {"client_message_id": uuid.uuid4().hex, "text": "Hello, how can I help?"},
        )
        if not self.long_chat:
            # the operator's first chat is put on hold and stays open through every fault:
            # state each service must still know after its restart
            self.long_chat = session
            await self.edge.request("POST", f"/v1/operator/sessions/{session}/hold", self.token)
            return
        await asyncio.sleep(random.uniform(*self.behaviour.chat_seconds))
        await self.behaviour.ending_chats.wait()
        await self.edge.request("POST", f"/v1/operator/sessions/{session}/end", self.token)

    async def _back_online(self) -> None:
        """Set away after an unanswered offer, the operator notices and comes back."""
        await asyncio.sleep(0.5)
        if self.behaviour.keep_online and await self.set_presence("online"):
            self.back_online += 1

    async def _resync(self) -> None:
        """After a gap in the socket's events, re-read what the console shows of itself."""
        response = await self.edge.request("GET", "/v1/operator/summary/me", self.token)
        if response is not None and response.status_code == 200:
            self.presence_seen = response.json()["presence"]
            self.presence_from = f"summary/me at {asyncio.get_running_loop().time():.1f}"
            if self.presence_seen != "online" and self.behaviour.keep_online:
                await self._back_online()

    async def close(self) -> None:
        await self.socket.close()


class VisitorWidget:
    def __init__(self, edge: Edge, crowd: Crowd, site_id: str) -> None:
        self.edge, self.crowd, self.site_id = edge, crowd, site_id
        self.id = ""
        self.token = ""
        self.socket: Socket | None = None
        self.asked = False
        self.channel = "chat"
        self.left = False
        self.started: str | None = None
        self.chat_started = asyncio.Event()
        self.ended_by_me = False

    async def arrive(self) -> bool:
        response = await self.edge.request("POST", f"/v1/sites/{self.site_id}/visitors")
        if response is None or response.status_code != 201:
            return False
        body = response.json()
        self.id, self.token = body["visitor_id"], body["token"]
        self.socket = Socket(self.edge, "/v1/visitor/ws", self.token, self._on_frame)
        self.socket.open()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.socket.connected.wait(), 30)
        return True

    def _on_frame(self, frame: Frame) -> None:
        if frame.get("type") == "ChatStarted" and self.started is None:
            self.started = frame["session_id"]
            self.chat_started.set()
            self.crowd.spawn(self._talk(frame["session_id"]))

    async def ask(self, channel: str) -> bool:
        self.channel = channel
        response = await self.edge.request(
            "POST",
            "/v1/visitor/chat-requests",
            self.token,
            {"channel": channel, "badge": {"name": f"visitor {self.id[:6]}"}},
        )
        self.asked = response is not None and response.status_code == 202
        return self.asked

    async def leave_after(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        if self.started is None:
            await self.leave()

    async def leave(self) -> None:
        response = await self.edge.request("DELETE", "/v1/visitor/queue", self.token)
        self.left = response is not None and response.status_code == 202

    async def leave_message(self) -> bool:
        response = await self.edge.request(
            "POST",
            "/v1/visitor/offline-messages",
            self.token,
            {"name": "Ada", "email": "ada@example.com", "text": "Please call me back."},
        )
        return response is not None and response.status_code == 202

    async def _talk(self, session: str) -> None:
        await self.edge.request(
            "POST",
            f"/v1/visitor/sessions/{session}/messages",
            self.token,
            {"client_message_id": uuid.uuid4().hex, "text": "Hi, a question about my order"},
        )

    async def end_chat_after(self, seconds: float) -> None:
        """Some visitors end the chat themselves, once it has started."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.chat_started.wait(), 60)
        if self.started is not None:
            await asyncio.sleep(seconds)
            await self.edge.request("POST", f"/v1/visitor/sessions/{self.started}/end", self.token)
            self.ended_by_me = True

    async def close(self) -> None:
        if self.socket is not None:
            await self.socket.close()


TOKEN_SECRET = "faults-secret-0123456789-0123456789-abcdef"
