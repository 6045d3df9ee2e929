"""The maximum number of chats through the gateway: a site administrator reads and changes the
site's and an operator's own; operators gain room and get waiting visitors at once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.e2e.conftest import System
from tests.support.clients import Operator, Party, Visitor

pytestmark = pytest.mark.e2e

DEFAULT_MAX_CHATS = 3  # QUEUE_MANAGER_MAX_CHATS is not set in the e2e system


async def eventually(read: Callable[[], Awaitable[Any]], expected: Any, within: float = 10) -> Any:
    """Poll a read until it returns `expected` (the change travels through the events)."""
    found = None
    for _ in range(int(within / 0.1)):
        found = await read()
        if found == expected:
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"still {found!r}, expected {expected!r}")


async def test_an_admin_raises_the_site_maximum_and_a_full_operator_is_offered_the_waiting_visitor(
    system: System, site_id: str, people: list[Party]
) -> None:
    ann = await Operator.sign_in(system.gateway, site_id, "ann", admin=True)
    bob = await Operator.sign_in(system.second_gateway, site_id, "bob")
    people.extend([ann, bob])

    # a site nothing was set on: the default, read through the projector
    settings = await ann.call("GET", "/v1/admin/settings", expect=200)
    assert settings == {
        "site_id": site_id,
        "max_chats": DEFAULT_MAX_CHATS,
        "from_default": True,
        "operators": settings["operators"],
    }
    await ann.call("PUT", "/v1/admin/settings/max-chats", json={"max_chats": 1})
    await bob.presence("online")

    async def bobs_limit() -> Any:
        return await bob.call("GET", "/v1/operator/chat-limit", expect=200)

    await eventually(
        bobs_limit, {"site_max_chats": 1, "operator_max_chats": None, "effective_max_chats": 1}
    )
    first = await Visitor.arrive(system.gateway, site_id)
    second = await Visitor.arrive(system.gateway, site_id)
    people.extend([first, second])
    await first.ask_for_chat()
    await bob.answer(await bob.next_offer(first), "accept")
    await first.inbox.wait_for("ChatStarted")
    await second.ask_for_chat(name="Grace")
    await second.inbox.wait_for("QueuePosition")
    await bob.inbox.never("ChatOffered", visitor_id=second.id, within=1.0)  # bob is full

    await ann.call("PUT", "/v1/admin/settings/max-chats", json={"max_chats": 2})
    await bob.next_offer(second)  # offered at once: bob gained a slot
    await eventually(
        bobs_limit, {"site_max_chats": 2, "operator_max_chats": None, "effective_max_chats": 2}
    )

    async def settings_now() -> Any:
        found = await ann.call("GET", "/v1/admin/settings", expect=200)
        return (
            found["max_chats"],
            found["from_default"],
            dict((o["operator_id"], o["max_chats"]) for o in found["operators"]).get(
                "bob", "absent"
            ),
        )

    await eventually(settings_now, (2, False, None))

    # bob's own maximum, then cleared: back to the site's
    await ann.call("PUT", "/v1/admin/operators/bob/max-chats", json={"max_chats": 1})
    await eventually(settings_now, (2, False, 1))
    await eventually(
        bobs_limit, {"site_max_chats": 2, "operator_max_chats": 1, "effective_max_chats": 1}
    )
    await ann.call("PUT", "/v1/admin/operators/bob/max-chats", json={"max_chats": None})
    await eventually(
        bobs_limit, {"site_max_chats": 2, "operator_max_chats": None, "effective_max_chats": 2}
    )
    me = await bob.call("GET", "/v1/operator/summary/me", expect=200)
    assert me["max_chats"] == 2


async def test_operators_may_not_change_the_settings_and_odd_values_are_refused_with_a_reason(
    system: System, site_id: str, people: list[Party]
) -> None:
    ann = await Operator.sign_in(system.gateway, site_id, "ann", admin=True)
    bob = await Operator.sign_in(system.gateway, site_id, "bob")
    people.extend([ann, bob])
    for method, path, body in (
        ("GET", "/v1/admin/settings", None),
        ("PUT", "/v1/admin/settings/max-chats", {"max_chats": 4}),
        ("PUT", "/v1/admin/operators/bob/max-chats", {"max_chats": 9}),
    ):
        refused = await bob.call(method, path, expect=403, json=body)
        assert "admin" in refused["detail"]
    too_many = await ann.call(
        "PUT", "/v1/admin/settings/max-chats", expect=422, json={"max_chats": 51}
    )
    assert "less than or equal to 50" in str(too_many["detail"])
    none = await ann.call(
        "PUT", "/v1/admin/operators/bob/max-chats", expect=422, json={"max_chats": 0}
    )
    assert "greater than or equal to 1" in str(none["detail"])
    # nothing changed: still the default, and an admin is an operator too
    settings = await ann.call("GET", "/v1/admin/settings", expect=200)
    assert (settings["max_chats"], settings["from_default"]) == (DEFAULT_MAX_CHATS, True)
    limit = await ann.call("GET", "/v1/operator/chat-limit", expect=200)
    assert limit["effective_max_chats"] == DEFAULT_MAX_CHATS
