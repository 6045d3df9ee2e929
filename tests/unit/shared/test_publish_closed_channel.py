"""A publish whose channel closes under it fails as the broker's failure, not as a cancellation.

aiormq cancels a publish's futures when the channel or connection closes: left a
CancelledError, it went through the handler and ended the consumer's loop (the takeover test
saw it when a replica's connections were closed mid-publish)."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest
from faststream.rabbit import RabbitBroker
from livechat_shared.contracts import VisitorLeftQueue
from livechat_shared.contracts.services import QUEUE_MANAGER
from livechat_shared.runtime.broker import BrokerUnavailable, Bus


def left() -> VisitorLeftQueue:
    return VisitorLeftQueue(site_id="acme", visitor_id="v1")


def bus_whose_publish(monkeypatch: pytest.MonkeyPatch, confirmed: Any) -> Bus:
    bus = Bus(cast(RabbitBroker, object()), QUEUE_MANAGER)
    monkeypatch.setattr(bus, "_publish_confirmed", confirmed)
    return bus


async def test_a_channel_closed_under_a_publish_is_the_broker_unavailable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def closed_under_it(*_: Any) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        future.cancel()  # what aiormq does to a pending confirm when the channel closes
        await future

    bus = bus_whose_publish(monkeypatch, closed_under_it)
    with pytest.raises(BrokerUnavailable, match="channel closed while publishing"):
        await bus.publish(left())


async def test_a_cancelled_publisher_is_still_cancelled(monkeypatch: pytest.MonkeyPatch) -> None:
    started = asyncio.Event()

    async def slow(*_: Any) -> None:
        started.set()
        await asyncio.sleep(60)

    bus = bus_whose_publish(monkeypatch, slow)
    publishing = asyncio.create_task(bus.publish(left()))
    await started.wait()
    publishing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await publishing
