"""The operator flow end to end, through the gateway's public API only, on the real broker."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.e2e.conftest import System
from tests.support.clients import Operator, Party, Visitor

pytestmark = pytest.mark.e2e


async def test_a_chat_from_request_to_end_then_the_next_visitor_is_offered(
    system: System, site_id: str, people: list[Party]
) -> None:
    ann = await Operator.sign_in(system.gateway, site_id, "ann")
    people.append(ann)
    await ann.presence("online")
    ada = await Visitor.arrive(system.gateway, site_id)
    people.append(ada)
    await ada.ask_for_chat(name="Ada")
    offer = await ann.next_offer(ada)
    assert offer["channel"] == "chat"
    await ann.answer(offer, "accept")
    [started] = await ada.inbox.wait_for("ChatStarted")
    session = str(started["session_id"])
    assert started["operator_id"] == "ann"

    await ada.say("Hello, my order is late")
    await ann.inbox.wait_for("ChatMessagePosted", count=1)
    await ann.say(session, "Let me check")
    await ada.inbox.wait_for("ChatMessagePosted", count=2)
    await ada.say("Thanks")
    for inbox in (ada.inbox, ann.inbox):
        messages = await inbox.wait_for("ChatMessagePosted", count=3)
        assert [(m["seq"], m["author"], m["text"]) for m in messages] == [
            (1, "visitor", "Hello, my order is late"),
            (2, "operator", "Let me check"),
            (3, "visitor", "Thanks"),
        ]

    # others wait while ann is full (3 chats by default)
    others = [await Visitor.arrive(system.gateway, site_id) for _ in range(3)]
    people.extend(others)
    for visitor in others:
        await visitor.ask_for_chat()
    for visitor in others[:2]:
        await ann.take(visitor)
    waiting = others[2]

    await ann.step(session, "hold")
    await ada.inbox.wait_for("ChatHeld")
    await ann.step(session, "resume")
    await ada.inbox.wait_for("ChatResumed")
    await ann.step(session, "end")
    [ended] = await ada.inbox.wait_for("ChatEnded")
    assert ended["ended_by"] == "operator"
    # capacity freed: the waiting visitor is offered to ann at once
    await ann.next_offer(waiting, within=2.0)

    transcript = await ada.call("GET", "/v1/visitor/session", expect=200)
    assert transcript["session"]["status"] == "ended"
    assert [m["text"] for m in transcript["messages"]] == [
        "Hello, my order is late",
        "Let me check",
        "Thanks",
    ]


async def test_a_fourth_visitor_waits_while_three_chats_run_even_when_held(
    system: System, site_id: str, people: list[Party]
) -> None:
    bob = await Operator.sign_in(system.gateway, site_id, "bob")
    people.append(bob)
    await bob.presence("online")
    visitors = [await Visitor.arrive(system.gateway, site_id) for _ in range(4)]
    people.extend(visitors)
    sessions = []
    for visitor in visitors[:3]:
        await visitor.ask_for_chat()
        sessions.append(await bob.take(visitor))
    await bob.step(sessions[0], "hold")
    await visitors[0].inbox.wait_for("ChatHeld")
    await visitors[3].ask_for_chat()
    await bob.inbox.never("ChatOffered", within=1.5, visitor_id=visitors[3].id)
    mine = await bob.call("GET", "/v1/operator/sessions", expect=200)
    assert sorted(s["status"] for s in mine["sessions"]) == ["active", "active", "on_hold"]
    await bob.step(sessions[1], "end")
    await bob.next_offer(visitors[3], within=2.0)


async def test_a_declined_visitor_keeps_its_place_and_skips_the_decliner(
    system: System, site_id: str, people: list[Party]
) -> None:
    ann = await Operator.sign_in(system.gateway, site_id, "ann")
    people.append(ann)
    await ann.presence("online")
    first, second = [await Visitor.arrive(system.gateway, site_id) for _ in range(2)]
    people.extend([first, second])
    await first.ask_for_chat()
    await ann.answer(await ann.next_offer(first), "decline")
    await first.inbox.wait_for("VisitorRequeued", reason="declined")
    await second.ask_for_chat()
    await ann.next_offer(second)  # ann is not offered `first` again
    assert not ann.inbox.of("ChatOffered", visitor_id=first.id)[1:]
    # a new operator gets `first`: it kept its place ahead of later arrivals
    cid = await Operator.sign_in(system.second_gateway, site_id, "cid")
    people.append(cid)
    await cid.presence("online")
    await cid.next_offer(first)


async def test_put_back_stops_automatic_offers_until_next(
    system: System, site_id: str, people: list[Party]
) -> None:
    ann = await Operator.sign_in(system.gateway, site_id, "ann")
    people.append(ann)
    await ann.presence("online")
    first, second = [await Visitor.arrive(system.gateway, site_id) for _ in range(2)]
    people.extend([first, second])
    await first.ask_for_chat()
    await ann.answer(await ann.next_offer(first), "put-back")
    await first.inbox.wait_for("VisitorRequeued", reason="put_back")
    await second.ask_for_chat()
    await ann.inbox.never("ChatOffered", within=1.0, visitor_id=second.id)
    await ann.call("POST", "/v1/operator/next", json={"channel": "chat"})
    await ann.next_offer(second)


async def test_an_unanswered_offer_goes_to_another_operator_and_the_silent_one_is_away(
    system: System, site_id: str, people: list[Party]
) -> None:
    ann = await Operator.sign_in(system.gateway, site_id, "ann")
    bob = await Operator.sign_in(system.second_gateway, site_id, "bob")
    people.extend([ann, bob])
    await ann.presence("online")
    await bob.presence("online")
    visitor = await Visitor.arrive(system.gateway, site_id)
    people.append(visitor)
    await visitor.ask_for_chat()
    offer = await ann.next_offer(visitor)  # online first: idle longest
    await ann.inbox.wait_for("OfferTimedOut", offer_id=offer["offer_id"], within=10)
    await ann.inbox.wait_for("OperatorPresenceChanged", presence="away")
    await bob.next_offer(visitor, within=2.0)


async def test_visitors_see_only_their_own_session_and_tokens_are_checked(
    system: System, site_id: str, people: list[Party]
) -> None:
    ann = await Operator.sign_in(system.gateway, site_id, "ann")
    people.append(ann)
    await ann.presence("online")
    mine, other = [await Visitor.arrive(system.gateway, site_id) for _ in range(2)]
    people.extend([mine, other])
    await mine.ask_for_chat()
    session = await ann.take(mine)
    await mine.say("private")
    await ann.inbox.wait_for("ChatMessagePosted")
    # the other visitor has no chat: it sees nothing of mine
    response = await other.http.get("/v1/visitor/session")
    assert response.status_code == 404
    # a visitor token is no operator token (403); no token and a forged token are refused (401)
    assert (await other.http.get("/v1/operator/sessions")).status_code == 403
    async with httpx.AsyncClient(base_url=system.gateway) as anonymous:
        assert (await anonymous.get("/v1/operator/sessions")).status_code == 401
        forged = {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.e30.bad"}
        assert (await anonymous.get("/v1/operator/sessions", headers=forged)).status_code == 401
        assert (await anonymous.post("/v1/visitor/chat-requests", json={})).status_code == 401
    # an operator cannot touch a chat that is not theirs: the session service refuses it, and
    # only bob hears why, in words that do not tell whether the session exists
    bob = await Operator.sign_in(system.gateway, site_id, "bob")
    people.append(bob)
    response = await bob.http.post(f"/v1/operator/sessions/{session}/end")
    assert response.status_code == 202
    [refused] = await bob.inbox.wait_for("CommandRejected", command_type="EndChat")
    assert refused["reason"] == "no such session of yours" and refused["operator_id"] == "bob"
    intrusion = {"client_message_id": "x", "text": "let me in"}
    response = await other.http.post(f"/v1/visitor/sessions/{session}/messages", json=intrusion)
    assert response.status_code == 202
    [refused] = await other.inbox.wait_for("CommandRejected", command_type="PostChatMessage")
    assert refused["reason"] == "no such session of yours" and refused["visitor_id"] == other.id
    await mine.say("still here")
    await ann.inbox.wait_for("ChatMessagePosted", text="still here")
    assert ann.inbox.of("ChatEnded") == [] and mine.inbox.of("CommandRejected") == []
    assert ann.inbox.of("ChatMessagePosted", text="let me in") == []
    # bad input is a 4xx with a reason
    response = await mine.http.post(
        f"/v1/visitor/sessions/{session}/messages", json={"client_message_id": "x", "text": ""}
    )
    assert response.status_code == 422 and "text" in response.text


async def test_a_visitor_gone_past_the_grace_period_ends_the_chat(
    system: System, site_id: str, people: list[Party]
) -> None:
    ann = await Operator.sign_in(system.gateway, site_id, "ann")
    people.append(ann)
    await ann.presence("online")
    visitor = await Visitor.arrive(system.gateway, site_id)
    people.append(visitor)
    await visitor.ask_for_chat()
    await ann.take(visitor)
    await visitor.inbox.close()  # the browser tab closes
    [ended] = await ann.inbox.wait_for("ChatEnded", within=10)
    assert ended["ended_by"] == "visitor_gone"


async def test_chat_overview_pages_the_operators_messages_newest_first(
    system: System, site_id: str, people: list[Party]
) -> None:
    ann = await Operator.sign_in(system.gateway, site_id, "ann")
    people.append(ann)
    await ann.presence("online")
    visitors = [await Visitor.arrive(system.gateway, site_id) for _ in range(2)]
    people.extend(visitors)
    for visitor in visitors:
        await visitor.ask_for_chat()
        await ann.take(visitor)
    for n in range(3):
        for visitor in visitors:
            await visitor.say(f"{visitor.id[-4:]} #{n}")
            await asyncio.sleep(0.01)
    await ann.inbox.wait_for("ChatMessagePosted", count=6)
    page = await ann.call("GET", "/v1/operator/messages?page=1&page_size=4", expect=200)
    assert page["total"] == 6
    texts = [m["text"] for m in page["messages"]]
    assert texts == [
        f"{visitors[1].id[-4:]} #2",
        f"{visitors[0].id[-4:]} #2",
        f"{visitors[1].id[-4:]} #1",
        f"{visitors[0].id[-4:]} #1",
    ]
    second = await ann.call("GET", "/v1/operator/messages?page=2&page_size=4", expect=200)
    assert len(second["messages"]) == 2
