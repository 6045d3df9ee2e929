"""No token reaches another site's data, whatever its claims: traversal in `sub` or `site`,
encoded slashes, `%2e%2e`, unicode look-alikes, and another site's ids, tried on every gateway
route that reads from an internal API, through the real services."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import timedelta

import httpx
import pytest
from visitor_gateway.domain.auth import Caller, issue

from tests.e2e.conftest import System
from tests.support.clients import TOKEN_SECRET, Operator, Party, Visitor

pytestmark = pytest.mark.e2e

OPERATOR_READS = [
    "/v1/operator/sessions",  # My Communication
    "/v1/operator/messages",  # Chat overview
    "/v1/operator/offline-messages?status=all",  # the Message Queue
    "/v1/operator/summary",
    "/v1/operator/summary/me",
    "/v1/operator/queue",
    "/v1/operator/site-monitor",
    "/v1/operator/chat-limit",
]
ADMIN_READS = ["/v1/admin/settings"]
STREAM = "/v1/operator/summary/stream"


def tricks(victim_site: str, victim: str) -> list[str]:
    """Subjects (or sites) that try to climb out of the caller's site into the victim's."""
    return [
        f"../../{victim_site}/operators/{victim}",
        f"..%2F..%2F{victim_site}%2Foperators%2F{victim}",
        f"%2e%2e/%2e%2e/{victim_site}/operators/{victim}",
        f"%2E%2E%2F%2E%2E%2F{victim_site}",
        "..",
        ".",
        f".{victim}",
        f"{victim}/../../../{victim_site}/operators/{victim}",
        f"{victim}\u2215..\u2215..",  # division slash
        "\uff0e\uff0e\uff0f" + victim_site,  # fullwidth dots and slash
        f"{victim[0]}\u0430{victim[2:]}",  # a Cyrillic a for a Latin one
        f"{victim}\u200b",  # a zero-width space
        f"{victim}?site={victim_site}",
        f"{victim}#",
        f"{victim} ",
    ]


def token(role: str, site: str, subject: str, admin: bool = False) -> str:
    caller = Caller(role=role, site_id=site, subject=subject, admin=admin)  # type: ignore[arg-type]
    return issue(TOKEN_SECRET, caller, timedelta(minutes=10))


async def until(check: object, what: str) -> None:
    for _ in range(100):
        if await check():  # type: ignore[operator]
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"never saw {what}")


async def first_frame(http: httpx.AsyncClient, headers: dict[str, str]) -> tuple[int, str]:
    async with http.stream("GET", STREAM, headers=headers) as response:
        if response.status_code != 200:
            return response.status_code, (await response.aread()).decode()
        text = ""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5):
                async for chunk in response.aiter_text():
                    text += chunk
                    if "\n\n" in text:
                        break
        return 200, text


async def test_no_claim_reads_another_sites_data_on_any_route(
    system: System, people: list[Party]
) -> None:
    victim_site = f"victim-{uuid.uuid4().hex[:8]}"
    attacker_site = f"attacker-{uuid.uuid4().hex[:8]}"
    bob_id = f"bob-{uuid.uuid4().hex[:6]}"
    secret = f"secret-{uuid.uuid4().hex}"
    # The victim site has a live chat, messages, an offline message and a summary.
    bob = await Operator.sign_in(system.gateway, victim_site, bob_id)
    people.append(bob)
    await bob.presence("online")
    visitor = await Visitor.arrive(system.gateway, victim_site)
    people.append(visitor)
    await visitor.ask_for_chat(name="Victim")
    session_id = await bob.take(visitor)
    await visitor.say(f"chat {secret}")
    left = {"name": "Victim", "email": "victim@example.com", "text": f"offline {secret}"}
    await visitor.call("POST", "/v1/visitor/offline-messages", json=left)

    async def victim_sees_everything() -> bool:
        overview = await bob.http.get("/v1/operator/messages")
        queue = await bob.http.get("/v1/operator/offline-messages", params={"status": "all"})
        return secret in overview.text and secret in queue.text

    await until(victim_sees_everything, "the victim site's data")
    own = await bob.http.get("/v1/operator/summary/me")
    assert victim_site in own.text and '"active":1' in own.text  # what a leak would show
    private = [victim_site, secret, session_id, visitor.id]

    attempts: list[tuple[str, str, str]] = []  # role, site, subject
    for trick in tricks(victim_site, bob_id):
        attempts.append(("operator", attacker_site, trick))
        attempts.append(("operator", trick if len(trick) < 60 else victim_site + "/..", bob_id))
    for trick in tricks(victim_site, visitor.id):
        attempts.append(("visitor", attacker_site, trick))
    # Valid claims naming the victim's own ids, but signed for the attacker's site
    attempts.append(("operator", attacker_site, bob_id))
    attempts.append(("visitor", attacker_site, visitor.id))

    async with httpx.AsyncClient(base_url=system.gateway, timeout=10) as http:
        for role, site, subject in attempts:
            headers = {"Authorization": f"Bearer {token(role, site, subject)}"}
            valid = (site, subject) in {(attacker_site, bob_id), (attacker_site, visitor.id)}
            answers: list[tuple[str, int, str]] = []
            if role == "operator":
                for route in OPERATOR_READS:
                    response = await http.get(route, headers=headers)
                    answers.append((route, response.status_code, response.text))
                answers.append((STREAM, *await first_frame(http, headers)))
                admin = {"Authorization": f"Bearer {token(role, site, subject, admin=True)}"}
                for route in ADMIN_READS:
                    response = await http.get(route, headers=admin)
                    answers.append((route, response.status_code, response.text))
                step = f"/v1/operator/sessions/{session_id}/messages"
                body = {"client_message_id": "x1", "text": "hijack"}
                response = await http.post(step, json=body, headers=headers)
                answers.append((step, response.status_code, response.text))
            else:
                response = await http.get("/v1/visitor/session", headers=headers)
                answers.append(("/v1/visitor/session", response.status_code, response.text))
                step = f"/v1/visitor/sessions/{session_id}/messages"
                body = {"client_message_id": "x1", "text": "hijack"}
                response = await http.post(step, json=body, headers=headers)
                answers.append((step, response.status_code, response.text))
            for route, status, text in answers:
                where = f"{role} site={site!r} sub={subject!r} {route}"
                assert status < 500, f"{where}: {status} {text}"
                if not valid:
                    assert status == 401, f"{where}: {status} {text}"
                elif "/sessions/" in route:
                    # the gateway does not look the session up: the command goes out on the
                    # caller's own site, where the session service refuses it
                    assert status == 202, f"{where}: {status} {text}"
                for word in private:
                    assert word not in text, f"{where} leaked {word}: {text[:300]}"

    # Nothing the attempts sent reached the victim's chat: a message bob sends afterwards is
    # handled after them (one consumer, in order), so once it shows, theirs would have too.
    await bob.say(session_id, "after the attempts")

    async def bobs_message_arrived() -> bool:
        mine = await visitor.http.get("/v1/visitor/session")
        return "after the attempts" in mine.text

    await until(bobs_message_arrived, "bob's later message")
    transcript = await visitor.call("GET", "/v1/visitor/session", expect=200)
    assert "hijack" not in str(transcript)


async def test_site_paths_with_tricks_never_reach_another_site(system: System) -> None:
    async with httpx.AsyncClient(base_url=system.gateway, timeout=10) as http:
        for site in ["..", "%2e%2e", "..%2Fvictim", "a%2F..%2Fb", "\uff0e\uff0e", "victim\u200b"]:
            for route in (f"/v1/sites/{site}/widget", f"/v1/sites/{site}/visitors"):
                method = "GET" if route.endswith("widget") else "POST"
                response = await http.request(method, route)
                assert response.status_code in (404, 422), (route, response.status_code)
