"""The hub delivers to each socket through its own bounded outbox: a stuck socket never holds
up the others, and is closed with a reason."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from typing import Any, cast

from fastapi import WebSocket
from livechat_shared.contracts import (
    Channel,
    ChatMessagePosted,
    ChatOffered,
    OperatorPresenceChanged,
    Presence,
    QueuePositionsChanged,
)
from visitor_gateway.adapters.hub import Hub
from visitor_gateway.adapters.outbox import BUFFER_FULL, SEND_TIMEOUT
from visitor_gateway.domain.delivery import Recipient

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


class FakeSocket:
    """Records what it is sent; a stuck one never finishes a send (its client stopped reading)."""

    def __init__(self, stuck: bool = False) -> None:
        self.stuck = stuck
        self.sent: list[dict[str, Any]] = []
        self.closed_with: tuple[int, str] | None = None

    async def send_text(self, payload: str) -> None:
        if self.stuck:
            await asyncio.Event().wait()
        self.sent.append(json.loads(payload))

    async def close(self, code: int = 1000, reason: str = "") -> None:
        if self.stuck:
            await asyncio.Event().wait()  # the close frame is stuck behind the data too
        self.closed_with = (code, reason)


def _socket(fake: FakeSocket) -> WebSocket:
    return cast(WebSocket, fake)


def _message(visitor_id: str, seq: int) -> ChatMessagePosted:
    return ChatMessagePosted(
        site_id="acme",
        session_id=uuid.uuid4(),
        seq=seq,
        author="operator",
        client_message_id=f"m{seq}",
        text="x" * 5000,
        visitor_id=visitor_id,
        operator_id="ann",
    )


def _offer(operator_id: str) -> ChatOffered:
    return ChatOffered(
        site_id="acme",
        offer_id=uuid.uuid4(),
        visitor_id="v2",
        operator_id=operator_id,
        channel=Channel.CHAT,
        waiting_since=NOW,
        expires_at=NOW,
    )


async def _eventually(condition: Any, within: float = 2.0) -> None:
    """Poll a condition the writers reach on their own, within a bound."""
    for _ in range(int(within / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the condition was not reached in time")


async def test_a_socket_whose_buffer_fills_is_closed_and_the_others_still_get_theirs() -> None:
    hub = Hub(buffer_frames=8, send_timeout_seconds=60)
    slow = [FakeSocket(stuck=True) for _ in range(20)]
    for fake in slow:
        hub.add(("acme", "visitor", "v1"), _socket(fake))
    healthy = FakeSocket()
    hub.add(("acme", "operator", "bob"), _socket(healthy))

    async with asyncio.timeout(2):  # delivery itself never waits on a socket
        for seq in range(1, 801):
            await hub.deliver(_message("v1", seq))
        await hub.deliver(_offer("bob"))

    await _eventually(lambda: [f["type"] for f in healthy.sent] == ["ChatOffered"])
    assert hub.connected() == 1  # all twenty slow sockets were dropped
    assert hub.holders() == [("acme", "operator", "bob")]


async def test_a_send_that_takes_too_long_closes_that_socket_with_a_reason() -> None:
    hub = Hub(buffer_frames=100, send_timeout_seconds=0.05)
    slow = FakeSocket(stuck=True)
    who: Recipient = ("acme", "operator", "ann")
    hub.add(who, _socket(slow))
    await hub.deliver(_offer("ann"))
    async with asyncio.timeout(2):
        await hub.until_dropped(who, _socket(slow))
    assert hub.connected() == 0


async def test_the_close_frame_names_the_reason_when_the_client_can_still_take_it() -> None:
    hub = Hub(buffer_frames=2, send_timeout_seconds=1)
    slow = FakeSocket()
    slow.stuck = True
    who: Recipient = ("acme", "visitor", "v1")
    hub.add(who, _socket(slow))
    for seq in range(1, 4):  # one in flight, two queued, the third overflows
        await hub.deliver(_message("v1", seq))
    slow.stuck = False  # the close frame itself can go out
    await _eventually(lambda: slow.closed_with is not None)
    assert slow.closed_with is not None and slow.closed_with[0] == BUFFER_FULL

    timed_out = FakeSocket(stuck=True)
    hub2 = Hub(buffer_frames=10, send_timeout_seconds=0.05)
    hub2.add(who, _socket(timed_out))
    await hub2.deliver(_message("v1", 1))
    await hub2.until_dropped(who, _socket(timed_out))
    timed_out.stuck = False
    await _eventually(lambda: timed_out.closed_with is not None)
    assert timed_out.closed_with is not None and timed_out.closed_with[0] == SEND_TIMEOUT


async def test_frames_given_at_connect_come_before_any_event() -> None:
    hub = Hub()
    fake = FakeSocket()
    hub.add(("acme", "operator", "ann"), _socket(fake), ['{"type": "Connected"}'])
    await hub.deliver(_offer("ann"))
    await _eventually(lambda: len(fake.sent) == 2)
    assert [f["type"] for f in fake.sent] == ["Connected", "ChatOffered"]


async def test_resync_tells_every_socket_what_to_reread() -> None:
    hub = Hub()
    operator, visitor, other = FakeSocket(), FakeSocket(), FakeSocket()
    hub.add(("acme", "operator", "ann"), _socket(operator))
    hub.add(("acme", "visitor", "v1"), _socket(visitor))
    hub.add(("acme", "visitor", "v2"), _socket(other))
    await hub.deliver(
        QueuePositionsChanged(site_id="acme", channel=Channel.CHAT, waiting=["v1"], total_waiting=1)
    )
    await hub.resync_all("the gateway's consumer reconnected")
    await _eventually(lambda: operator.sent and len(visitor.sent) == 3 and other.sent)
    [resync] = operator.sent
    assert resync == {
        "type": "Resync",
        "reason": "the gateway's consumer reconnected",
        "reread": [
            "GET /v1/operator/sessions",
            "GET /v1/operator/summary/me",
            "GET /v1/operator/queue",
        ],
    }
    assert [f["type"] for f in visitor.sent] == ["QueuePosition", "Resync", "QueuePosition"]
    assert visitor.sent[1]["reread"] == ["GET /v1/visitor/session"]
    assert [f["type"] for f in other.sent] == ["Resync"]


async def test_a_socket_is_closed_after_the_frames_queued_before_its_close() -> None:
    hub = Hub(buffer_frames=8, send_timeout_seconds=1)
    fake = FakeSocket()
    who: Recipient = ("acme", "visitor", "v1")
    hub.add(who, _socket(fake), [json.dumps({"type": "Connected"})])
    hub.finish(who, _socket(fake), 1013, "try again later")
    await asyncio.wait_for(hub.until_dropped(who, _socket(fake)), 1)
    assert [frame["type"] for frame in fake.sent] == ["Connected"]
    assert fake.closed_with == (1013, "try again later")


async def test_a_republished_copy_of_an_event_is_not_shown_again() -> None:
    """A service that handles a redelivered message publishes its events again, with the same
    ids; a late copy must not take a console back in time."""
    hub = Hub()
    fake = FakeSocket()
    who: Recipient = ("acme", "operator", "ann")
    hub.add(who, _socket(fake))
    away = OperatorPresenceChanged(site_id="acme", operator_id="ann", presence=Presence.AWAY)
    online = OperatorPresenceChanged(site_id="acme", operator_id="ann", presence=Presence.ONLINE)
    for message in (away, online, away):  # the last one: the copy, republished late
        await hub.deliver(message)
    await asyncio.sleep(0.05)
    assert [frame["presence"] for frame in fake.sent] == ["away", "online"]


async def test_a_place_is_kept_for_a_visitor_whose_socket_opens_here_later() -> None:
    """Positions of visitors without a socket on this replica are not sent anywhere, yet the
    place is what a socket that opens here later gets first."""
    hub = Hub()
    here = FakeSocket()
    hub.add(("acme", "visitor", "v1"), _socket(here))
    await hub.deliver(
        QueuePositionsChanged(
            site_id="acme", channel=Channel.CHAT, waiting=["v1", "v2"], total_waiting=2
        )
    )
    await _eventually(lambda: here.sent)
    assert [(f["type"], f["position"]) for f in here.sent] == [("QueuePosition", 1)]
    later = hub.place_of(("acme", "visitor", "v2"))
    assert later is not None and (later["position"], later["total_waiting"]) == (2, 2)


async def test_an_event_for_nobody_here_is_dropped_and_the_next_still_delivered() -> None:
    hub = Hub()
    fake = FakeSocket()
    hub.add(("acme", "operator", "ann"), _socket(fake))
    await hub.deliver(_offer("bob"))  # bob's console is on another replica
    await hub.deliver(_offer("ann"))
    await _eventually(lambda: fake.sent)
    await asyncio.sleep(0.02)
    assert [(f["type"], f["operator_id"]) for f in fake.sent] == [("ChatOffered", "ann")]
