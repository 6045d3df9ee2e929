"""Three queues, Next, manual pick, queue positions, the Site Monitor and invitations, end to end."""

from __future__ import annotations

import asyncio

import pytest

from tests.e2e.conftest import INVITATION_TIMEOUT_SECONDS, System
from tests.support.clients import Operator, Party, Visitor

pytestmark = pytest.mark.e2e


async def test_two_operators_pressing_next_message_at_once_get_different_messages(
    system: System, site_id: str, people: list[Party]
) -> None:
    ann = await Operator.sign_in(system.gateway, site_id, "ann")
    bob = await Operator.sign_in(system.second_gateway, site_id, "bob")
    people.extend([ann, bob])
    for n in range(3):
        visitor = await Visitor.arrive(system.gateway, site_id)
        people.append(visitor)
        body = {"name": f"Visitor {n}", "email": f"v{n}@example.com", "text": f"question {n}"}
        await visitor.call("POST", "/v1/visitor/offline-messages", json=body)
    for _ in range(150):  # the Message Queue shows all three, oldest first
        queue = await ann.call("GET", "/v1/operator/offline-messages", expect=200)
        if len(queue["messages"]) == 3:
            break
        await asyncio.sleep(0.1)
    assert [m["text"] for m in queue["messages"]] == ["question 0", "question 1", "question 2"]

    await asyncio.gather(
        ann.call("POST", "/v1/operator/offline-messages/next"),
        bob.call("POST", "/v1/operator/offline-messages/next"),
    )
    [mine] = await ann.inbox.wait_for("OfflineMessageTaken")
    [theirs] = await bob.inbox.wait_for("OfflineMessageTaken")
    assert mine["offline_message_id"] != theirs["offline_message_id"]
    assert {mine["text"], theirs["text"]} == {"question 0", "question 1"}

    reply = {"text": "Here is the answer"}
    await ann.call(
        "POST", f"/v1/operator/offline-messages/{mine['offline_message_id']}/reply", json=reply
    )
    await ann.call("POST", f"/v1/operator/offline-messages/{mine['offline_message_id']}/close")
    await bob.call("POST", f"/v1/operator/offline-messages/{mine['offline_message_id']}/close")
    [rejected] = await bob.inbox.wait_for("CommandRejected")
    assert rejected["command_type"] == "CloseMessage"
    await ann.call("POST", "/v1/operator/offline-messages/next")
    await ann.inbox.wait_for("OfflineMessageTaken", count=2)
    await ann.call("POST", "/v1/operator/offline-messages/next")
    [empty] = await ann.inbox.wait_for("CommandRejected", command_type="TakeNextMessage")
    assert "no message" in empty["reason"]


async def test_a_manual_pick_racing_an_automatic_offer_yields_exactly_one_session(
    system: System, site_id: str, people: list[Party]
) -> None:
    ann = await Operator.sign_in(system.gateway, site_id, "ann")
    bob = await Operator.sign_in(system.second_gateway, site_id, "bob")
    people.extend([ann, bob])
    # ann is away: no automatic offers, but she may pick; bob takes automatic offers
    await ann.call("PUT", "/v1/operator/presence", json={"presence": "away"})
    await ann.inbox.wait_for("OperatorPresenceChanged", presence="away")
    await bob.presence("online")
    visitors = [await Visitor.arrive(system.gateway, site_id) for _ in range(5)]
    people.extend(visitors)
    for visitor in visitors:
        await visitor.ask_for_chat()
        await ann.call("POST", "/v1/operator/pick", json={"visitor_id": visitor.id})
    outcomes = [await asyncio.wait_for(_first_outcome(ann, bob, v), 10) for v in visitors]
    await _all_decided(ann, bob, outcomes)
    for visitor, outcome in zip(visitors, outcomes, strict=True):
        picked = ann.inbox.of("ChatStarted", visitor_id=visitor.id)
        offered = bob.inbox.of("ChatOffered", visitor_id=visitor.id)
        assert len(picked) + len(offered) == 1, f"{visitor.id}: {outcome}, two operators or none"
    # both paths were really exercised: ann picked some, bob was offered others
    assert "picked by ann" in outcomes and "offered to bob" in outcomes
    assert len(_rejected_picks(ann)) == outcomes.count("offered to bob")


async def _all_decided(ann: Operator, bob: Operator, outcomes: list[str]) -> None:
    """A barrier instead of a sleep: once ann has an answer to each pick (a chat, or a rejection
    for each visitor bob was offered), the queue manager decided them all; a pick of nobody by
    bob is answered after every earlier event reached bob's replica (one decision order, one
    queue per replica), so nothing is still on its way."""
    rejections = outcomes.count("offered to bob")
    await ann.inbox.wait_for("CommandRejected", count=rejections, command_type="PickVisitor")
    await bob.call("POST", "/v1/operator/pick", json={"visitor_id": "nobody"})
    await bob.inbox.wait_for("CommandRejected", command_type="PickVisitor")


def _rejected_picks(operator: Operator) -> list[dict[str, object]]:
    return [r for r in operator.inbox.of("CommandRejected") if r["command_type"] == "PickVisitor"]


async def _first_outcome(ann: Operator, bob: Operator, visitor: Visitor) -> str:
    while True:
        if ann.inbox.of("ChatStarted", visitor_id=visitor.id):
            return "picked by ann"
        if bob.inbox.of("ChatOffered", visitor_id=visitor.id):
            return "offered to bob"
        await asyncio.sleep(0.02)


async def test_a_waiting_visitor_sees_its_place_move_and_keeps_it_after_a_reconnect(
    system: System, site_id: str, people: list[Party]
) -> None:
    visitors = [await Visitor.arrive(system.gateway, site_id) for _ in range(5)]
    people.extend(visitors)
    for visitor in visitors:
        await visitor.ask_for_chat()
    last = visitors[-1]
    [place] = await last.inbox.wait_for("QueuePosition", position=5)
    assert place["total_waiting"] == 5
    for visitor in visitors[:3]:  # three ahead leave
        await visitor.call("DELETE", "/v1/visitor/queue")
    await last.inbox.wait_for("QueuePosition", position=2)
    # reconnect, to the other replica: the place is told at once
    await last.inbox.close()
    await last.connect("/v1/visitor/ws", base_url=system.second_gateway)
    [again] = await last.inbox.wait_for("QueuePosition", position=2)
    assert again["total_waiting"] == 2
    # an operator takes the head of the queue: the last visitor moves to the front, with an ETA
    ann = await Operator.sign_in(system.gateway, site_id, "ann")
    people.append(ann)
    await ann.presence("online")
    await ann.take(visitors[3])
    # ann has room for 3: the last visitor is offered too, so it leaves the queue
    await ann.next_offer(last)


async def test_site_monitor_lists_browsers_and_an_accepted_invitation_starts_a_chat(
    system: System, site_id: str, people: list[Party]
) -> None:
    ann = await Operator.sign_in(system.gateway, site_id, "ann")
    people.append(ann)
    await ann.presence("online")
    browser, quiet = [await Visitor.arrive(system.second_gateway, site_id) for _ in range(2)]
    people.extend([browser, quiet])
    await browser.call("POST", "/v1/visitor/heartbeat", json={"page": "https://shop.example.com/a"})
    await quiet.call("POST", "/v1/visitor/heartbeat", json={"page": "https://shop.example.com/"})
    await browser.call("POST", "/v1/visitor/heartbeat", json={"page": "https://shop.example.com/b"})
    for _ in range(50):
        monitor = await ann.call("GET", "/v1/operator/site-monitor", expect=200)
        pages = {v["visitor_id"]: v["page"] for v in monitor["visitors"]}
        if pages.get(browser.id) == "https://shop.example.com/b" and quiet.id in pages:
            break
        await asyncio.sleep(0.1)
    assert pages[browser.id] == "https://shop.example.com/b"
    [row] = [v for v in monitor["visitors"] if v["visitor_id"] == browser.id]
    assert row["visits"] == 1 and row["pages_viewed"] == 2
    assert monitor["browsing"] == len(monitor["visitors"])  # a small site: every one listed
    # ann's socket is pushed the same without asking (her replica heard the visitors' beats)
    for _ in range(100):
        pushed = [
            {v["visitor_id"]: v["page"] for v in frame["visitors"]}
            for frame in ann.inbox.of("SiteMonitor")
        ]
        if pages in pushed:
            break
        await asyncio.sleep(0.1)
    assert pages in pushed

    await ann.call("POST", "/v1/operator/invitations", json={"visitor_id": browser.id})
    [invited] = await browser.inbox.wait_for("VisitorInvited")
    await browser.call("POST", f"/v1/visitor/invitations/{invited['invitation_id']}/accept")
    [started] = await ann.inbox.wait_for("ChatStarted", visitor_id=browser.id)
    assert started["origin"] == "invitation"

    await ann.call("POST", "/v1/operator/invitations", json={"visitor_id": quiet.id})
    await quiet.inbox.wait_for("VisitorInvited")
    [expired] = await ann.inbox.wait_for(
        "InvitationExpired", visitor_id=quiet.id, within=INVITATION_TIMEOUT_SECONDS + 8
    )
    assert expired["operator_id"] == "ann"

    # silent visitors drop off the monitor after the browsing timeout: polled, within a bound
    deadline = asyncio.get_running_loop().time() + 15
    while True:
        monitor = await ann.call("GET", "/v1/operator/site-monitor", expect=200)
        if monitor["visitors"] == [] or asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.2)
    assert monitor["visitors"] == []
    for _ in range(50):  # pushed too: nobody browses now
        if ann.inbox.of("SiteMonitor")[-1]["visitors"] == []:
            break
        await asyncio.sleep(0.1)
    assert ann.inbox.of("SiteMonitor")[-1]["visitors"] == []
