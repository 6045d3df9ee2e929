"""Timers started together declare their timer queue once; a failed declaration is retried."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any, cast

import pytest
from faststream.rabbit import RabbitBroker, RabbitQueue
from livechat_shared.contracts import ExpireOffer
from livechat_shared.contracts.services import QUEUE_MANAGER
from livechat_shared.contracts.topology import delay_queue
from livechat_shared.runtime.broker import Bus


class CountingBroker:
    """Just what publish_delayed declares with: each declaration takes a moment, as on the
    wire. What the bus publishes (on a channel of its own) is recorded here too."""

    def __init__(self, failures: int = 0) -> None:
        self.declared: list[RabbitQueue] = []
        self.published: list[str] = []
        self.failures = failures

    async def declare_queue(self, queue: RabbitQueue) -> object:
        await asyncio.sleep(0.01)
        if self.failures:
            self.failures -= 1
            raise ConnectionError("the broker went away")
        self.declared.append(queue)
        return object()


def counting_bus(broker: CountingBroker) -> Bus:
    """A bus whose confirmed publish records the queue the timer goes to."""
    bus = Bus(cast(RabbitBroker, broker), QUEUE_MANAGER)

    async def sent(message: Any, body: bytes, exchange: str, key: str, *_: Any) -> None:
        broker.published.append(key)

    bus._publish_confirmed = sent  # type: ignore[method-assign,assignment]
    return bus


def expiry() -> ExpireOffer:
    return ExpireOffer(site_id="acme", offer_id=uuid.uuid4())


async def test_timers_started_together_declare_their_queue_once() -> None:
    broker = CountingBroker()
    bus = counting_bus(broker)
    await asyncio.gather(*(bus.publish_delayed(expiry(), 30) for _ in range(50)))
    await bus.publish_delayed(expiry(), 30, due_in_seconds=5)
    await bus.publish_delayed(expiry(), 60)  # another delay: another queue
    name = delay_queue(QUEUE_MANAGER.service, ExpireOffer, 30_000)
    assert [q.name for q in broker.declared] == [
        name,
        delay_queue(QUEUE_MANAGER.service, ExpireOffer, 60_000),
    ]
    assert broker.published.count(name) == 51


async def test_a_failed_declaration_fails_its_timers_and_is_tried_again() -> None:
    broker = CountingBroker(failures=1)
    bus = counting_bus(broker)
    results = await asyncio.gather(
        *(bus.publish_delayed(expiry(), 30) for _ in range(3)), return_exceptions=True
    )
    assert all(isinstance(r, ConnectionError) for r in results)
    assert broker.published == []
    await bus.publish_delayed(expiry(), 30)
    assert len(broker.declared) == 1 and len(broker.published) == 1


async def test_a_timer_cancelled_while_its_queue_is_declared_leaves_the_declaration_running() -> (
    None
):
    broker = CountingBroker()
    bus = counting_bus(broker)
    first = asyncio.ensure_future(bus.publish_delayed(expiry(), 30))
    await asyncio.sleep(0)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    await bus.publish_delayed(expiry(), 30)
    assert len(broker.declared) == 1 and len(broker.published) == 1
