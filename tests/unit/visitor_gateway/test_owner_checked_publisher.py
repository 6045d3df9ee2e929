"""The gateway refuses a request whose owner's input queue is missing, checking once a second."""

from __future__ import annotations

import pytest
from livechat_shared.contracts import Message, VisitorBrowsing, VisitorWaiting
from livechat_shared.contracts.partitions import partition_of
from livechat_shared.contracts.services import QUEUE_MANAGER
from livechat_shared.runtime.broker import NotRouted
from visitor_gateway.adapters.publishing import OwnerCheckedPublisher


class FakeBus:
    def __init__(self) -> None:
        self.published: list[Message] = []

    async def publish(self, message: Message) -> None:
        self.published.append(message)


class FakeBroker:
    def __init__(self) -> None:
        self.queues = {QUEUE_MANAGER.input_queue}
        self.checks = 0

    async def queues_exist(self, names: tuple[str, ...]) -> bool:
        self.checks += 1
        return set(names) <= self.queues


@pytest.fixture
def now() -> list[float]:
    return [100.0]


async def test_a_request_goes_out_while_its_owners_queue_exists_checked_once_a_second(
    now: list[float],
) -> None:
    bus, broker = FakeBus(), FakeBroker()
    publisher = OwnerCheckedPublisher(
        bus, broker.queues_exist, (QUEUE_MANAGER,), 1.0, lambda: now[0]
    )
    for _ in range(5):
        await publisher.publish(VisitorWaiting(site_id="acme", visitor_id="v1"))
    assert len(bus.published) == 5
    assert broker.checks == 1
    now[0] += 1.5
    await publisher.publish(VisitorWaiting(site_id="acme", visitor_id="v1"))
    assert broker.checks == 2


async def test_a_request_whose_owners_queue_is_gone_is_refused(now: list[float]) -> None:
    bus, broker = FakeBus(), FakeBroker()
    publisher = OwnerCheckedPublisher(
        bus, broker.queues_exist, (QUEUE_MANAGER,), 1.0, lambda: now[0]
    )
    await publisher.publish(VisitorWaiting(site_id="acme", visitor_id="v1"))
    broker.queues.clear()  # the upgrade step deleted queue-manager.input
    now[0] += 1.5
    with pytest.raises(NotRouted):
        await publisher.publish(VisitorWaiting(site_id="acme", visitor_id="v2"))
    assert [m.visitor_id for m in bus.published] == ["v1"]  # type: ignore[attr-defined]
    # what no service owns (the gateway's own heartbeat) is not held up
    await publisher.publish(
        VisitorBrowsing(site_id="acme", visitor_id="v3", page="https://x.example/")
    )


async def test_with_partitions_the_queue_checked_is_the_one_of_the_sites_partition(
    now: list[float],
) -> None:
    bus, broker = FakeBus(), FakeBroker()
    here = partition_of("acme", 4)
    broker.queues = {QUEUE_MANAGER.partition_queue(here, 4)}  # the other partitions' are gone
    publisher = OwnerCheckedPublisher(
        bus, broker.queues_exist, (QUEUE_MANAGER,), 1.0, lambda: now[0], partitions=4
    )
    await publisher.publish(VisitorWaiting(site_id="acme", visitor_id="v1"))
    elsewhere = next(s for s in (f"site-{n}" for n in range(50)) if partition_of(s, 4) != here)
    with pytest.raises(NotRouted, match=r"queue-manager\.input\.\d"):
        await publisher.publish(VisitorWaiting(site_id=elsewhere, visitor_id="v2"))
    assert [m.site_id for m in bus.published] == ["acme"]
