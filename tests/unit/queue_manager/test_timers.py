"""Offer and invitation timers: re-armed from the journal on load, harmless when they fire twice."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from livechat_shared.contracts import (
    AcceptOffer,
    ChatOffered,
    ExpireInvitation,
    ExpireOffer,
    InvitationExpired,
    InviteVisitor,
    OfferTimedOut,
    Presence,
    SetOperatorPresence,
    VisitorInvited,
    VisitorRequeued,
    VisitorWaiting,
)
from livechat_shared.contracts.timers import REARM_MINIMUM_SECONDS
from queue_manager.adapters.memory_journal import MemoryJournal
from queue_manager.domain import RoutingPolicy
from queue_manager.handlers import RoutingService

from tests.unit.queue_manager.desk import SITE, T0
from tests.unit.queue_manager.test_routing_service import RecordingPublisher

POLICY = RoutingPolicy(
    max_chats=2, offer_timeout=timedelta(seconds=30), invitation_timeout=timedelta(seconds=60)
)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def tick(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def online(operator_id: str) -> SetOperatorPresence:
    return SetOperatorPresence(site_id=SITE, operator_id=operator_id, presence=Presence.ONLINE)


def waiting(visitor_id: str) -> VisitorWaiting:
    return VisitorWaiting(site_id=SITE, visitor_id=visitor_id)


async def offers_pending(
    journal: MemoryJournal, clock: Clock, publisher: RecordingPublisher
) -> RoutingService:
    """ann is offered v0 at T0+1, bob v1 at T0+11; ann invited v9 at T0+21."""
    routing = RoutingService(journal, publisher, POLICY, clock)
    await routing.handle(online("ann"))
    clock.tick(1)
    await routing.handle(waiting("v0"))
    await routing.handle(online("bob"))
    clock.tick(10)
    await routing.handle(waiting("v1"))
    clock.tick(10)
    await routing.handle(InviteVisitor(site_id=SITE, operator_id="ann", visitor_id="v9"))
    return routing


async def test_on_load_every_pending_offer_and_invitation_is_rearmed_with_its_time_left() -> None:
    journal, clock = MemoryJournal(), Clock()
    await offers_pending(journal, clock, RecordingPublisher())
    clock.tick(5)  # restarted at T0+26
    publisher = RecordingPublisher()
    restarted = RoutingService(journal, publisher, POLICY, clock)
    await restarted.load()

    assert await restarted.rearm_timers() == 3
    timers = [
        (type(m).__name__, delay, due)
        for (m, delay), due in zip(publisher.delayed, publisher.due_in, strict=True)
    ]
    # soonest first: v0's offer is due at T0+31, v1's at T0+41, the invitation at T0+81
    assert timers == [
        ("ExpireOffer", 30.0, 5.0),
        ("ExpireOffer", 30.0, 15.0),
        ("ExpireInvitation", 60.0, 55.0),
    ]
    site = restarted.site(SITE)
    offered = {m.offer_id for m, _ in publisher.delayed if isinstance(m, ExpireOffer)}
    assert offered == set(site.offers)
    invited = {m.invitation_id for m, _ in publisher.delayed if isinstance(m, ExpireInvitation)}
    assert invited == set(site.invitations)


async def test_a_timer_that_fell_due_while_down_fires_soon_after_start() -> None:
    journal, clock = MemoryJournal(), Clock()
    await offers_pending(journal, clock, RecordingPublisher())
    clock.tick(600)
    publisher = RecordingPublisher()
    restarted = RoutingService(journal, publisher, POLICY, clock)
    await restarted.load()
    await restarted.rearm_timers()
    assert publisher.due_in == [REARM_MINIMUM_SECONDS] * 3


async def test_an_answered_offer_is_not_rearmed() -> None:
    journal, clock = MemoryJournal(), Clock()
    publisher = RecordingPublisher()
    routing = await offers_pending(journal, clock, publisher)
    [first, _] = [m for m in publisher.published if isinstance(m, ChatOffered)]
    await routing.handle(AcceptOffer(site_id=SITE, offer_id=first.offer_id, operator_id="ann"))
    rearmed = RecordingPublisher()
    restarted = RoutingService(journal, rearmed, POLICY, clock)
    await restarted.load()
    await restarted.rearm_timers()
    assert first.offer_id not in {getattr(m, "offer_id", None) for m, _ in rearmed.delayed}
    assert len(rearmed.delayed) == 2


@pytest.mark.parametrize("rearmed_first", [False, True])
async def test_an_offer_timer_that_fires_twice_expires_the_offer_once(rearmed_first: bool) -> None:
    journal, clock = MemoryJournal(), Clock()
    publisher = RecordingPublisher()
    await offers_pending(journal, clock, publisher)
    original = next(m for m, _ in publisher.delayed if isinstance(m, ExpireOffer))
    clock.tick(40)
    restarted = RoutingService(journal, publisher, POLICY, clock)
    await restarted.load()
    before = len(publisher.delayed)
    await restarted.rearm_timers()
    rearmed = next(
        m
        for m, _ in publisher.delayed[before:]
        if isinstance(m, ExpireOffer) and m.offer_id == original.offer_id
    )
    assert rearmed.command_id != original.command_id  # decided on its own, never a "redelivery"
    published = len(publisher.published)

    for timer in [rearmed, original] if rearmed_first else [original, rearmed]:
        await restarted.handle(timer)

    after = publisher.published[published:]
    timed_out = [e for e in after if isinstance(e, OfferTimedOut)]
    assert [e.offer_id for e in timed_out] == [original.offer_id]
    assert [e.visitor_id for e in after if isinstance(e, VisitorRequeued)] == ["v0"]
    site = restarted.site(SITE)
    assert original.offer_id not in site.offers
    assert site.visitors["v0"].offer_id != original.offer_id  # requeued (and offered to bob)
    ann = site.operators["ann"]
    assert original.offer_id not in {o for offers in ann.offers.values() for o in offers}

    # the second copy decided nothing: a restart replays to the very same state
    again = RoutingService(journal, RecordingPublisher(), POLICY, clock)
    await again.load()
    assert again.site(SITE).offers.keys() == site.offers.keys()
    assert again.site(SITE).queues == site.queues


async def test_an_invitation_timer_that_fires_twice_expires_it_once() -> None:
    journal, clock = MemoryJournal(), Clock()
    publisher = RecordingPublisher()
    await offers_pending(journal, clock, publisher)
    invited = next(m for m in publisher.published if isinstance(m, VisitorInvited))
    original = next(m for m, _ in publisher.delayed if isinstance(m, ExpireInvitation))
    clock.tick(70)
    restarted = RoutingService(journal, publisher, POLICY, clock)
    await restarted.load()
    before = len(publisher.delayed)
    await restarted.rearm_timers()
    [rearmed] = [m for m, _ in publisher.delayed[before:] if isinstance(m, ExpireInvitation)]
    published = len(publisher.published)
    await restarted.handle(original)
    await restarted.handle(rearmed)
    expired = [e for e in publisher.published[published:] if isinstance(e, InvitationExpired)]
    assert [e.invitation_id for e in expired] == [invited.invitation_id]
    assert restarted.site(SITE).invitations == {}
