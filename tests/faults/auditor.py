"""The auditor: records every event on `livechat.events` and checks the routing promises.

It consumes its own durable quorum queue bound to `event.#`, so it loses nothing while a service
or the broker restarts; a redelivered event (same event id) is counted once. Events reach it in
the order they were routed, which keeps cause before effect: a `ChatEnded` is in this queue before
the queue manager could have received it and offered the freed slot.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection
from livechat_shared.contracts import events as e
from livechat_shared.contracts import parse_message
from livechat_shared.contracts.topology import EVENTS_EXCHANGE

QUEUE = "faults.auditor"

OPEN = "offered"
WAITING = "waiting"
CHATTING = "chatting"
ENDED = "ended"
LEFT = "left"
BETWEEN = "between"
"""An offer closed and neither its requeueing nor the visitor's leaving has been seen yet."""


@dataclass
class Hold:
    """An offer or invitation: it reserves the visitor and a slot of the operator."""

    site_id: str
    visitor_id: str
    operator_id: str
    channel: str
    expires_at: datetime
    invitation: bool = False


@dataclass
class Chat:
    site_id: str
    visitor_id: str
    operator_id: str
    channel: str


@dataclass
class VisitorTrail:
    status: str | None = None
    channel: str | None = None
    starts: int = 0
    history: list[str] = field(default_factory=list)


@dataclass
class Truth:
    """What the Communication Summary of one site should show, from the audited events."""

    waiting_chats: int
    waiting_calls: int
    in_progress: int
    online: int

    @staticmethod
    def of_summary(summary: dict[str, Any]) -> Truth:
        queues, in_progress = summary["queues"], summary["in_progress"]
        return Truth(
            waiting_chats=queues["chats"]["waiting"],
            waiting_calls=queues["calls"]["waiting"],
            in_progress=in_progress["active"] + in_progress["on_hold"],
            online=summary["operators"]["online"],
        )


class Auditor:
    def __init__(self, url: str, max_chats: int, max_calls: int) -> None:
        self.url = url
        self.limits = {"chat": max_chats, "call": max_calls}
        self.seen: set[uuid.UUID] = set()
        self.counts: Counter[str] = Counter()
        self.redelivered = 0
        self.visitors: dict[tuple[str, str], VisitorTrail] = {}
        self.holds: dict[uuid.UUID, Hold] = {}
        self.chats: dict[uuid.UUID, Chat] = {}
        self.ended: set[uuid.UUID] = set()
        self.offer_ids: set[uuid.UUID] = set()
        self.presence: dict[tuple[str, str], str] = {}
        self.double: list[str] = []
        self.over_capacity: list[str] = []
        self.changed = asyncio.Condition()
        self._connection: AbstractRobustConnection | None = None

    # --- consuming -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Declare the queue (before any service publishes) and consume it."""
        self._connection = await aio_pika.connect_robust(self.url)
        channel = await self._connection.channel()
        await channel.set_qos(prefetch_count=200)
        exchange = await channel.declare_exchange(
            EVENTS_EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True
        )
        queue = await channel.declare_queue(
            QUEUE, durable=True, arguments={"x-queue-type": "quorum"}
        )
        await queue.bind(exchange, routing_key="event.#")
        await queue.consume(self._on_message)

    async def stop(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.close()

    async def _on_message(self, raw: AbstractIncomingMessage) -> None:
        event = parse_message(raw.body)
        async with self.changed:
            if isinstance(event, e.Event):
                if event.event_id in self.seen:
                    self.redelivered += 1
                else:
                    self.seen.add(event.event_id)
                    self.counts[event.type_name()] += 1
                    self.apply(event)
            self.changed.notify_all()
        await raw.ack()

    async def wait_until(self, check: object, within: float) -> bool:
        """Poll the audited state (re-checked on every event and every second) until `check()`."""
        assert callable(check)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while loop.time() < deadline:
            if check():
                return True
            async with self.changed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.changed.wait(), timeout=1.0)
        return bool(check())

    # --- the rules -------------------------------------------------------------------------------

    def trail(self, site_id: str, visitor_id: str) -> VisitorTrail:
        return self.visitors.setdefault((site_id, visitor_id), VisitorTrail())

    def _move(self, event: e.Event, visitor_id: str, status: str) -> None:
        trail = self.trail(event.site_id, visitor_id)
        trail.status = status
        trail.history.append(event.type_name())

    def _reserved(self, site_id: str, visitor_id: str, but: uuid.UUID) -> list[uuid.UUID]:
        """The other offers and chats that hold this visitor now."""
        holding = [
            i
            for i, h in self.holds.items()
            if (h.site_id, h.visitor_id) == (site_id, visitor_id) and not h.invitation
        ]
        holding += [
            i for i, c in self.chats.items() if (c.site_id, c.visitor_id) == (site_id, visitor_id)
        ]
        return [i for i in holding if i != but]

    def load(self, site_id: str, operator_id: str, channel: str) -> int:
        holds = sum(
            1
            for h in self.holds.values()
            if (h.site_id, h.operator_id, h.channel) == (site_id, operator_id, channel)
        )
        chats = sum(
            1
            for c in self.chats.values()
            if (c.site_id, c.operator_id, c.channel) == (site_id, operator_id, channel)
        )
        return holds + chats

    def _check_capacity(self, site_id: str, operator_id: str, channel: str, why: str) -> None:
        load = self.load(site_id, operator_id, channel)
        if load > self.limits[channel]:
            self.over_capacity.append(f"{site_id}/{operator_id} {channel} load {load} at {why}")

    def apply(self, event: e.Event) -> None:
        match event:
            case e.VisitorQueued() | e.VisitorRequeued():
                self._move(event, event.visitor_id, WAITING)
                self.trail(event.site_id, event.visitor_id).channel = event.channel.value
            case e.ChatOffered():
                others = self._reserved(event.site_id, event.visitor_id, event.offer_id)
                if others:
                    self.double.append(
                        f"{event.site_id}/{event.visitor_id} offered {event.offer_id} "
                        f"while held by {others}"
                    )
                self.offer_ids.add(event.offer_id)
                self.holds[event.offer_id] = Hold(
                    event.site_id,
                    event.visitor_id,
                    event.operator_id,
                    event.channel.value,
                    event.expires_at,
                )
                self._move(event, event.visitor_id, OPEN)
                self._check_capacity(
                    event.site_id, event.operator_id, event.channel.value, "ChatOffered"
                )
            case e.VisitorInvited():
                self.holds[event.invitation_id] = Hold(
                    event.site_id,
                    event.visitor_id,
                    event.operator_id,
                    event.channel.value,
                    event.expires_at,
                    invitation=True,
                )
                self._check_capacity(
                    event.site_id, event.operator_id, event.channel.value, "VisitorInvited"
                )
            case e.OfferDeclined() | e.OfferPutBack() | e.OfferTimedOut() | e.OfferWithdrawn():
                if self.holds.pop(event.offer_id, None) is not None:
                    trail = self.trail(event.site_id, event.visitor_id)
                    if trail.status == OPEN:
                        self._move(event, event.visitor_id, BETWEEN)
            case e.InvitationDeclined() | e.InvitationExpired():
                self.holds.pop(event.invitation_id, None)
            case e.ChatStarted():
                self.holds.pop(event.session_id, None)
                others = self._reserved(event.site_id, event.visitor_id, event.session_id)
                trail = self.trail(event.site_id, event.visitor_id)
                trail.starts += 1
                if others or trail.starts > 1:
                    self.double.append(
                        f"{event.site_id}/{event.visitor_id} started {event.session_id} "
                        f"(start #{trail.starts}) while held by {others}"
                    )
                self.chats[event.session_id] = Chat(
                    event.site_id, event.visitor_id, event.operator_id, event.channel.value
                )
                self._move(event, event.visitor_id, CHATTING)
                trail.channel = event.channel.value
                self._check_capacity(
                    event.site_id, event.operator_id, event.channel.value, "ChatStarted"
                )
            case e.ChatEnded():
                self.ended.add(event.session_id)
                if self.chats.pop(event.session_id, None) is not None:
                    self._move(event, event.visitor_id, ENDED)
            case e.VisitorAbandoned():
                self._move(event, event.visitor_id, LEFT)
            case e.OperatorPresenceChanged():
                self.presence[(event.site_id, event.operator_id)] = event.presence.value

    # --- what the checks read --------------------------------------------------------------------

    def status(self, site_id: str, visitor_id: str) -> str | None:
        trail = self.visitors.get((site_id, visitor_id))
        return None if trail is None else trail.status

    def stuck(self, now: datetime, grace: timedelta) -> list[tuple[uuid.UUID, Hold]]:
        """Offers and invitations still pending long after they expired."""
        return [(i, h) for i, h in self.holds.items() if h.expires_at + grace < now]

    def truth(self, site_id: str) -> Truth:
        waiting = Counter(
            t.channel
            for (site, _), t in self.visitors.items()
            if site == site_id and t.status == WAITING
        )
        return Truth(
            waiting_chats=waiting["chat"],
            waiting_calls=waiting["call"],
            in_progress=sum(1 for c in self.chats.values() if c.site_id == site_id),
            online=sum(
                1 for (site, _), p in self.presence.items() if site == site_id and p == "online"
            ),
        )

    def free_slots(self, site_id: str, operator_id: str, channel: str) -> int:
        if self.presence.get((site_id, operator_id)) != "online":
            return 0
        return max(0, self.limits[channel] - self.load(site_id, operator_id, channel))
