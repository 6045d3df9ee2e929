"""Each service applies its input in delivery order, with prefetch still filling the pipe.

Before, each delivery ran in a task of its own up to the prefetch (64): a handler that awaited
anything let the next messages overtake it (the projector applied OfferDeclined before its
ChatOffered).
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from livechat_shared.contracts import (
    Channel,
    ChatOffered,
    Event,
    Message,
    OfferDeclined,
    OperatorSlotsChanged,
    VisitorLeftQueue,
    VisitorQueued,
    VisitorRequeued,
)
from summary_projector.adapters.memory_store import MemorySummaryStore
from summary_projector.main import create_app
from summary_projector.ports import Save, SiteRecord
from summary_projector.settings import SummaryProjectorSettings

from tests.support.apps import running
from tests.support.broker import AMQP_URL
from tests.support.consuming import consuming, publish_quickly, throwaway, wait_until

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("per_instance", [False, True], ids=["quorum", "per-replica"])
async def test_a_handler_that_awaits_sees_messages_in_delivery_order_with_prefetch_64(
    site_id: str, per_instance: bool
) -> None:
    seen: list[str] = []
    in_flight = 0
    most_in_flight = 0

    async def handle(message: Message) -> None:
        nonlocal in_flight, most_in_flight
        assert isinstance(message, VisitorLeftQueue)
        in_flight += 1
        most_in_flight = max(most_in_flight, in_flight)
        await asyncio.sleep(random.uniform(0, 0.004))
        seen.append(message.visitor_id)
        in_flight -= 1

    sent = [f"v{i:03d}" for i in range(150)]
    queues = throwaway(per_instance=per_instance, single_active_consumer=not per_instance)
    async with consuming(queues, handle):
        await publish_quickly([VisitorLeftQueue(site_id=site_id, visitor_id=v) for v in sent])
        await wait_until(lambda: len(seen) >= len(sent))
    assert seen == sent
    assert most_in_flight == 1


class SlowStore(MemorySummaryStore):
    """The in-memory summary store with the awaits a real store has, recording each write."""

    def __init__(self) -> None:
        super().__init__()
        self.saved: list[tuple[str, str]] = []

    async def load(self, site_id: str) -> SiteRecord:
        await asyncio.sleep(random.uniform(0, 0.005))
        return await super().load(site_id)

    async def commit(self, saves: Sequence[Save], events: Sequence[Event]) -> set[str]:
        await asyncio.sleep(random.uniform(0, 0.002))
        newly = await super().commit(saves, events)
        for save in saves:  # each event that changed the site, in the order they were applied
            added = save.record.version - save.expected_version
            self.saved += [(save.record.site_id, e) for e in save.record.recent[-added:]]
        return newly

    def saved_for(self, site_id: str) -> list[str]:
        """(The queue may hold other tests' events, for other sites.)"""
        return [event_id for site, event_id in self.saved if site == site_id]


async def test_the_projector_applies_one_sites_events_in_the_order_they_were_published(
    site_id: str,
) -> None:
    store = SlowStore()
    settings = SummaryProjectorSettings.model_validate(
        {"amqp_url": AMQP_URL, "log_level": "WARNING"}
    )
    changes = [
        OperatorSlotsChanged(
            site_id=site_id,
            operator_id="ann",
            channel=Channel.CHAT,
            max_slots=n % 7 + 1,
            used_slots=0,
            free_slots=n % 7 + 1,
        )
        for n in range(40)
    ]
    async with running(create_app(settings, store=store)):
        await publish_quickly(list(changes))
        await wait_until(lambda: len(store.saved_for(site_id)) >= len(changes), timeout=60)
        record = await MemorySummaryStore.load(store, site_id)
    assert store.saved_for(site_id) == [str(c.event_id) for c in changes]
    assert record.version == len(changes)


async def test_the_projector_shows_offers_and_requeues_as_they_happened(site_id: str) -> None:
    """The issue's case: each visitor is offered, declined, requeued and offered again. Applied
    out of order, the first offer stays pending for the decliner, or the visitor shows waiting
    while it is being offered."""
    store = SlowStore()
    settings = SummaryProjectorSettings.model_validate(
        {"amqp_url": AMQP_URL, "log_level": "WARNING"}
    )
    since = datetime.now(UTC)
    expires = since + timedelta(minutes=1)
    events: list[Message] = []
    second_offers = {}
    for n in range(12):
        visitor = f"v{n}"
        first, second = uuid.uuid4(), uuid.uuid4()
        second_offers[second] = visitor
        common = {"site_id": site_id, "visitor_id": visitor}
        events += [
            VisitorQueued(**common, channel=Channel.CHAT, waiting_since=since),
            ChatOffered(
                **common,
                offer_id=first,
                operator_id="ann",
                channel=Channel.CHAT,
                waiting_since=since,
                expires_at=expires,
            ),
            OfferDeclined(**common, offer_id=first, operator_id="ann"),
            VisitorRequeued(**common, channel=Channel.CHAT, waiting_since=since, reason="declined"),
            ChatOffered(
                **common,
                offer_id=second,
                operator_id="bob",
                channel=Channel.CHAT,
                waiting_since=since,
                expires_at=expires,
            ),
        ]
    async with running(create_app(settings, store=store)):
        await publish_quickly(events)
        await wait_until(lambda: len(store.saved_for(site_id)) >= len(events), timeout=60)
        state = (await MemorySummaryStore.load(store, site_id)).state
    assert dict(state.waiting) == {}
    assert {offer_id: o.visitor_id for offer_id, o in state.offers.items()} == second_offers
    assert {o.operator_id for o in state.offers.values()} == {"bob"}
