"""The gateway tells the queue manager which operators have a console open on this replica."""

from __future__ import annotations

from typing import cast

from fastapi import WebSocket
from livechat_shared.contracts import Message, OperatorConnected, OperatorDisconnected
from visitor_gateway.adapters.hub import Hub
from visitor_gateway.consoles import Consoles

from tests.unit.visitor_gateway.test_hub import FakeSocket


class Recorder:
    def __init__(self, failing: bool = False) -> None:
        self.failing = failing
        self.published: list[Message] = []

    async def publish(self, message: Message) -> None:
        if self.failing:
            raise ConnectionError("the broker is away")
        self.published.append(message)


async def test_a_reconnect_renews_the_claim_of_every_operator_held_here() -> None:
    hub = Hub()
    published = Recorder()
    consoles = Consoles(hub, published, "gw-1", refresh_seconds=20)
    hub.add(("acme", "operator", "ann"), cast(WebSocket, FakeSocket()))
    hub.add(("acme", "operator", "ann"), cast(WebSocket, FakeSocket()))
    hub.add(("acme", "visitor", "v1"), cast(WebSocket, FakeSocket()))
    hub.add(("beta", "operator", "bob"), cast(WebSocket, FakeSocket()))
    await consoles.announce_all()
    claims = [m for m in published.published if isinstance(m, OperatorConnected)]
    assert sorted((c.site_id, c.operator_id, c.replica_id) for c in claims) == [
        ("acme", "ann", "gw-1"),
        ("beta", "bob", "gw-1"),
    ]


async def test_opened_and_closed_name_the_replica_and_a_broker_outage_does_not_raise() -> None:
    published = Recorder()
    consoles = Consoles(Hub(), published, "gw-1", refresh_seconds=20)
    await consoles.opened(("acme", "operator", "ann"))
    await consoles.closed(("acme", "operator", "ann"))
    assert [(type(m), m.replica_id) for m in published.published] == [  # type: ignore[attr-defined]
        (OperatorConnected, "gw-1"),
        (OperatorDisconnected, "gw-1"),
    ]
    down = Consoles(Hub(), Recorder(failing=True), "gw-1", refresh_seconds=20)
    await down.closed(("acme", "operator", "ann"))  # logged; the lease mends it
