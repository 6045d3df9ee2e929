"""Visitors and operators as a console would be: HTTP calls plus a WebSocket inbox."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from datetime import timedelta
from typing import Any

import httpx
import websockets
from visitor_gateway.domain.auth import Caller, issue

TOKEN_SECRET = "e2e-secret-0123456789-0123456789-abcdef"


class Inbox:
    """Collects the JSON frames a socket receives."""

    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []
        self._changed = asyncio.Condition()
        self._reader: asyncio.Task[None] | None = None
        self._socket: Any = None

    async def open(self, url: str) -> None:
        self._socket = await websockets.connect(url)
        self._reader = asyncio.create_task(self._read())
        await self.wait_for("Connected")

    async def _read(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in self._socket:
                async with self._changed:
                    self.frames.append(json.loads(raw))
                    self._changed.notify_all()

    async def close(self) -> None:
        if self._socket is not None:
            await self._socket.close()
        if self._reader is not None:
            await self._reader

    def of(self, kind: str, **match: Any) -> list[dict[str, Any]]:
        return [
            f
            for f in self.frames
            if f["type"] == kind and all(f.get(k) == v for k, v in match.items())
        ]

    async def wait_for(
        self, kind: str, count: int = 1, within: float = 10.0, **match: Any
    ) -> list[dict[str, Any]]:
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(lambda: len(self.of(kind, **match)) >= count)
        return self.of(kind, **match)[:count]

    async def never(self, kind: str, within: float = 1.0, **match: Any) -> None:
        """Assert that no such frame arrives within the time."""
        with contextlib.suppress(TimeoutError):
            found = await self.wait_for(kind, within=within, **match)
            raise AssertionError(f"unexpected {kind}: {found}")


class Party:
    def __init__(self, base_url: str, token: str, identity: str) -> None:
        self.base_url = base_url
        self.token = token
        self.id = identity
        self.http = httpx.AsyncClient(
            base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10.0
        )
        self.inbox = Inbox()

    async def connect(self, path: str, base_url: str | None = None) -> None:
        ws_base = (base_url or self.base_url).replace("http://", "ws://")
        await self.inbox.open(f"{ws_base}{path}?token={self.token}")

    async def close(self) -> None:
        await self.inbox.close()
        await self.http.aclose()

    async def call(self, method: str, path: str, expect: int = 202, **kwargs: Any) -> Any:
        response = await self.http.request(method, path, **kwargs)
        assert response.status_code == expect, (
            f"{method} {path}: {response.status_code} {response.text}"
        )
        return response.json()


class Visitor(Party):
    @classmethod
    async def arrive(cls, base_url: str, site_id: str) -> Visitor:
        async with httpx.AsyncClient(base_url=base_url) as http:
            response = await http.post(f"/v1/sites/{site_id}/visitors")
            assert response.status_code == 201, response.text
            body = response.json()
        visitor = cls(base_url, body["token"], body["visitor_id"])
        await visitor.connect("/v1/visitor/ws")
        return visitor

    async def ask_for_chat(self, channel: str = "chat", name: str = "Ada") -> None:
        badge = {"name": name, "current_page": "https://shop.example.com/cart"}
        await self.call(
            "POST", "/v1/visitor/chat-requests", json={"channel": channel, "badge": badge}
        )

    async def say(self, text: str) -> None:
        """Send a message in the chat this visitor's socket saw start."""
        [started] = await self.inbox.wait_for("ChatStarted")
        await self.call(
            "POST",
            f"/v1/visitor/sessions/{started['session_id']}/messages",
            json={"client_message_id": uuid.uuid4().hex, "text": text},
        )


class Operator(Party):
    @classmethod
    async def sign_in(
        cls, base_url: str, site_id: str, operator_id: str, admin: bool = False
    ) -> Operator:
        """An operator with its console socket open; `admin`: its site's administrator."""
        caller = Caller(role="operator", site_id=site_id, subject=operator_id, admin=admin)
        operator = cls(base_url, issue(TOKEN_SECRET, caller, timedelta(hours=1)), operator_id)
        await operator.connect("/v1/operator/ws")
        return operator

    async def presence(self, presence: str) -> None:
        await self.call("PUT", "/v1/operator/presence", json={"presence": presence})
        if presence == "online":
            await self.inbox.wait_for("OperatorPresenceChanged", presence="online")

    async def next_offer(self, visitor: Visitor, within: float = 10.0) -> dict[str, Any]:
        [offer] = await self.inbox.wait_for("ChatOffered", visitor_id=visitor.id, within=within)
        return offer

    async def answer(self, offer: dict[str, Any], answer: str) -> None:
        await self.call("POST", f"/v1/operator/offers/{offer['offer_id']}/{answer}")

    async def take(self, visitor: Visitor) -> str:
        """Accept the visitor's offer; returns the session id once the chat started."""
        offer = await self.next_offer(visitor)
        await self.answer(offer, "accept")
        [started] = await self.inbox.wait_for("ChatStarted", visitor_id=visitor.id)
        return str(started["session_id"])

    async def say(self, session_id: str, text: str) -> None:
        await self.call(
            "POST",
            f"/v1/operator/sessions/{session_id}/messages",
            json={"client_message_id": uuid.uuid4().hex, "text": text},
        )

    async def step(self, session_id: str, step: str) -> None:
        await self.call("POST", f"/v1/operator/sessions/{session_id}/{step}")
