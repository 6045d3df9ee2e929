"""`livechat_consumer_active`: which replica its input queue delivers to (dashboards, alerts)."""

from __future__ import annotations

import contextlib

import pytest
from livechat_shared.contracts import Message, VisitorLeftQueue
from livechat_shared.runtime.metrics import ServiceMetrics

from tests.support.consuming import consuming, publish_quickly, throwaway, wait_until

pytestmark = pytest.mark.integration


def active(metrics: ServiceMetrics) -> float | None:
    return metrics.registry.get_sample_value(
        "livechat_consumer_active", {"service": metrics.service}
    )


async def test_only_the_replica_the_queue_delivers_to_reports_itself_active(site_id: str) -> None:
    queues = throwaway(single_active_consumer=True)
    seen: list[Message] = []

    async def handle(message: Message) -> None:
        seen.append(message)

    first, second = ServiceMetrics(queues.service), ServiceMetrics(queues.service)
    async with contextlib.AsyncExitStack() as replicas:
        first_replica = contextlib.AsyncExitStack()
        await first_replica.enter_async_context(
            consuming(queues, handle, metrics=first, delete_queues=False)
        )
        await replicas.enter_async_context(consuming(queues, handle, metrics=second))
        assert (active(first), active(second)) == (0, 0)  # nobody knows before a delivery

        await publish_quickly([VisitorLeftQueue(site_id=site_id, visitor_id="v1")])
        await wait_until(lambda: len(seen) == 1)
        assert (active(first), active(second)) == (1, 0)  # the first consumer is the active one

        await first_replica.aclose()  # it stops: the standby takes over with the next message
        assert active(first) == 0
        await publish_quickly([VisitorLeftQueue(site_id=site_id, visitor_id="v2")])
        await wait_until(lambda: len(seen) == 2)
        assert active(second) == 1


async def test_a_replicas_own_queue_is_active_as_soon_as_it_consumes() -> None:
    queues = throwaway(per_instance=True)

    async def handle(message: Message) -> None:
        return None

    metrics = ServiceMetrics(queues.service)
    async with consuming(queues, handle, metrics=metrics):
        assert active(metrics) == 1
    assert active(metrics) == 0
