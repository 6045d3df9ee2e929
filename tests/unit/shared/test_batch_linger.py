"""A consumer that lingers gathers what arrives within the window into one batch; one that does
not handles only what already waits."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any, cast

import pytest
from livechat_shared.runtime.broker import Bus
from livechat_shared.runtime.consumer import _LOST, InputConsumer


def delivery(name: str) -> Any:
    return SimpleNamespace(name=name, channel=SimpleNamespace(is_closed=False))


def consumer(linger: float, batches: list[list[str]]) -> InputConsumer:
    async def settle(batch: Sequence[Any]) -> None:
        batches.append([d.name for d in batch])

    bus = SimpleNamespace(queues=SimpleNamespace(per_instance=False, service="test"), partitions=1)
    return InputConsumer(
        cast(Bus, bus),
        settle,
        amqp_url="amqp://unused",
        prefetch=10,
        batch_max=10,
        batch_linger_seconds=linger,
    )


async def feed_and_serve(linger: float) -> list[list[str]]:
    batches: list[list[str]] = []
    subject = consumer(linger, batches)
    inbox: asyncio.Queue[Any] = asyncio.Queue()
    subject._inbox = inbox
    serving = asyncio.create_task(subject._serve())
    inbox.put_nowait(delivery("a"))
    await asyncio.sleep(0.01)  # b and c arrive after a, within 0.3 s
    inbox.put_nowait(delivery("b"))
    await asyncio.sleep(0.01)
    inbox.put_nowait(delivery("c"))
    await asyncio.sleep(0.5)  # d arrives after the window
    inbox.put_nowait(delivery("d"))
    await asyncio.sleep(0.01)
    inbox.put_nowait(_LOST)
    await asyncio.wait_for(serving, 2)
    return batches


@pytest.mark.parametrize(
    ("linger", "expected"),
    [(0.3, [["a", "b", "c"], ["d"]]), (0.0, [["a"], ["b"], ["c"], ["d"]])],
)
async def test_a_batch_lingers_only_as_long_as_asked(
    linger: float, expected: list[list[str]]
) -> None:
    assert await feed_and_serve(linger) == expected
