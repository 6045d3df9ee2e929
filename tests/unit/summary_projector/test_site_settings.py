"""The maximum number of chats as the projector shows it: announced by the queue manager, never
decided here; served to the gateway for the settings page and an operator's chat limit."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from livechat_shared.contracts import OperatorCapacityChanged, SiteMaxChatsChanged
from livechat_shared.runtime.settings import DEV_INTERNAL_TOKEN
from summary_projector.adapters.documents import decode_state, encode_state
from summary_projector.adapters.memory_store import MemorySummaryStore
from summary_projector.domain import ChatLimit, apply, chat_limit, site_settings
from summary_projector.main import create_app
from summary_projector.settings import SummaryProjectorSettings

from tests.unit.summary_projector.events import SITE, fold, online, slots
from tests.unit.summary_projector.test_summary_api import feed


def site_max(maximum: int, from_default: bool = False) -> SiteMaxChatsChanged:
    return SiteMaxChatsChanged(site_id=SITE, max_chats=maximum, from_default=from_default)


def own(operator: str, maximum: int | None) -> OperatorCapacityChanged:
    return OperatorCapacityChanged(site_id=SITE, operator_id=operator, max_chats=maximum)


def test_nothing_is_known_until_the_queue_manager_announced_the_site() -> None:
    state = fold(online("ann"), slots("ann", free=3, maximum=3))
    assert site_settings(state) is None
    assert chat_limit(state, "ann") is None


def test_the_settings_list_the_site_maximum_and_each_operators_own() -> None:
    state = fold(
        site_max(3, from_default=True),
        online("bob"),
        own("ann", 2),
        slots("ann", free=2, maximum=2),
        slots("bob", free=3, maximum=3),
    )
    settings = site_settings(state)
    assert settings is not None
    assert (settings.max_chats, settings.from_default) == (3, True)
    assert settings.operators == (("ann", 2), ("bob", None))
    state = fold(site_max(5), own("ann", None), slots("ann", free=5, maximum=5), state=state)
    settings = site_settings(state)
    assert settings is not None
    assert (settings.max_chats, settings.from_default, settings.operators) == (
        5,
        False,
        (("ann", None), ("bob", None)),
    )


def test_an_operators_limit_is_the_maximum_the_queue_manager_reported_for_it() -> None:
    state = fold(site_max(4), own("ann", 2), slots("ann", free=1, maximum=2))
    assert chat_limit(state, "ann") == ChatLimit(4, 2, 2)
    # an operator the queue manager never reported: the site's maximum applies to it
    assert chat_limit(state, "newcomer") == ChatLimit(4, None, 4)


def test_a_copy_keeps_the_settings_while_the_original_changes() -> None:
    """The store keeps a copy of the last saved state while a batch is applied in place."""
    state = fold(site_max(4), own("ann", 2), slots("ann", free=1, maximum=2))
    kept = state.copy()
    assert kept == state
    assert fold(site_max(6), own("ann", None), state=state) is state
    assert site_settings(kept) == site_settings(fold(site_max(4), own("ann", 2)))
    assert chat_limit(kept, "ann") == ChatLimit(4, 2, 2)
    assert chat_limit(state, "ann") == ChatLimit(6, None, 2)


def test_a_repeated_announcement_changes_nothing() -> None:
    state = fold(site_max(4), own("ann", 2))
    assert apply(state, site_max(4)) is False
    assert apply(state, own("ann", 2)) is False
    assert apply(state, site_max(4, from_default=True)) is True


def test_the_settings_survive_the_stored_document() -> None:
    state = fold(site_max(4), own("ann", 2), slots("ann", free=1, maximum=2))
    assert decode_state(SITE, encode_state(state)) == state
    older = encode_state(fold(online("ann")))  # written before the settings existed
    del older["max_chats"]
    for operator in older["operators"]:
        del operator["own_max_chats"]
    assert site_settings(decode_state(SITE, older)) is None


@pytest.fixture
def app() -> FastAPI:
    settings = SummaryProjectorSettings.model_validate({"log_level": "WARNING"})
    return create_app(settings, store=MemorySummaryStore())


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://projector",
        headers={"X-Internal-Token": DEV_INTERNAL_TOKEN},
    ) as client:
        yield client


async def test_the_read_api_serves_the_settings_and_a_chat_limit_or_404_until_announced(
    app: FastAPI, http: httpx.AsyncClient
) -> None:
    assert (await http.get(f"/v1/sites/{SITE}/settings")).status_code == 404
    assert (await http.get(f"/v1/sites/{SITE}/operators/ann/chat-limit")).status_code == 404
    await feed(app, site_max(3, from_default=True), own("ann", 2), slots("ann", free=2, maximum=2))
    settings = await http.get(f"/v1/sites/{SITE}/settings")
    assert settings.json() == {
        "site_id": SITE,
        "max_chats": 3,
        "from_default": True,
        "operators": [{"operator_id": "ann", "max_chats": 2}],
    }
    limit = await http.get(f"/v1/sites/{SITE}/operators/ann/chat-limit")
    assert limit.json() == {
        "site_id": SITE,
        "operator_id": "ann",
        "site_max_chats": 3,
        "operator_max_chats": 2,
        "effective_max_chats": 2,
    }
    assert (await http.get(f"/v1/sites/{SITE}/operators/a%2F..%2Fb/chat-limit")).status_code in (
        404,
        422,
    )
    assert (await http.get("/v1/sites/other-site/settings")).status_code == 404
