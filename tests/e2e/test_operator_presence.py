"""Operator presence follows the console, end to end through the gateway."""

from __future__ import annotations

import pytest
from livechat_shared.contracts import OperatorPresenceChanged, Presence

from tests.e2e.conftest import OPERATOR_DISCONNECT_GRACE_SECONDS, System
from tests.support.broker import Tap
from tests.support.clients import Operator, Party, Visitor

pytestmark = pytest.mark.e2e


async def test_an_operator_whose_console_closed_goes_away_and_its_visitor_is_not_left_offered(
    system: System, site_id: str, people: list[Party]
) -> None:
    async with Tap(site_id) as tap:
        ann = await Operator.sign_in(system.gateway, site_id, "ann")
        people.append(ann)
        await ann.presence("online")
        await ann.inbox.close()  # the console is gone: tab closed, laptop asleep

        ada = await Visitor.arrive(system.gateway, site_id)
        people.append(ada)
        await ada.ask_for_chat()
        [away] = await tap.wait_for(
            OperatorPresenceChanged,
            lambda e: e.operator_id == "ann" and e.reason == "disconnected",
            timeout=OPERATOR_DISCONNECT_GRACE_SECONDS + 8,
        )
        assert away.presence is Presence.AWAY
        if ada.inbox.of("ChatOffered"):  # offered while ann's grace ran: it came back
            await ada.inbox.wait_for("VisitorRequeued", reason="operator_disconnected")

        # the console comes back and the operator goes online again: offers resume
        await ann.connect("/v1/operator/ws", base_url=system.second_gateway)
        await ann.call("PUT", "/v1/operator/presence", json={"presence": "online"})
        offer = await ann.next_offer(ada)
        await ann.answer(offer, "accept")
        await ada.inbox.wait_for("ChatStarted")


async def test_a_console_open_on_one_of_two_replicas_keeps_the_operator_online(
    system: System, site_id: str, people: list[Party]
) -> None:
    bob = await Operator.sign_in(system.gateway, site_id, "bob")
    people.append(bob)
    second = await Operator.sign_in(system.second_gateway, site_id, "bob")
    people.append(second)
    await bob.presence("online")
    await bob.inbox.close()  # one of its two consoles closes
    ada = await Visitor.arrive(system.gateway, site_id)
    people.append(ada)
    await ada.ask_for_chat()
    await second.take(ada)
    await second.inbox.never(
        "OperatorPresenceChanged", within=OPERATOR_DISCONNECT_GRACE_SECONDS + 1.5, presence="away"
    )
    eve = await Visitor.arrive(system.gateway, site_id)
    people.append(eve)
    await eve.ask_for_chat()
    await second.next_offer(eve)  # still online: offers keep coming
