"""An incoming chat request made while the console's socket was down shows once it reconnects,
and can be accepted: the console reads the operator's pending offers from its summary. The Site
Monitor follows visitors as they come, pushed on the console's socket."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Gateway, Pages, running_system


@pytest.fixture(scope="module")
def gateways(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Gateway]]:
    settings = {
        # ann stays online while her console is away (the offer goes to her meanwhile)
        "QUEUE_MANAGER_OPERATOR_DISCONNECT_GRACE_SECONDS": "300",
        "QUEUE_MANAGER_OFFER_TIMEOUT_SECONDS": "120",  # a loaded machine restarts slowly
    }
    with running_system(tmp_path_factory.mktemp("offer-reconnect"), gateways=2, **settings) as two:
        yield two


def my_summary(gateway: Gateway, headers: dict[str, str], until: Any) -> dict[str, Any]:
    """ann's own summary once `until` holds of it (30 s at most; then as it is)."""
    deadline = time.monotonic() + 30
    while True:
        me: dict[str, Any] = httpx.get(
            f"{gateway.url}/v1/operator/summary/me", headers=headers
        ).json()
        if until(me) or time.monotonic() > deadline:
            return me
        time.sleep(0.5)


@pytest.mark.timeout(300)
def test_an_offer_made_while_the_console_was_away_shows_after_it_reconnects(
    pages: Pages, gateways: list[Gateway]
) -> None:
    gateway, other_replica = gateways
    pages.tolerate(  # the gateway is killed on purpose: what it held breaks until it is back
        r"net::ERR_(CONNECTION_REFUSED|CONNECTION_RESET|EMPTY_RESPONSE|INCOMPLETE_CHUNKED_ENCODING)"
    )
    ann = pages.open(f"{gateway.url}/console/#token={gateway.operator_token('ann')}", "ann")
    ann.get_by_label("Online", exact=True).click()
    expect(ann.get_by_label("Online", exact=True)).to_be_checked()
    ann_reads = {"Authorization": f"Bearer {gateway.operator_token('ann')}"}
    # the widget offers a chat only once the summary counts someone online
    online = my_summary(gateway, ann_reads, lambda me: me["presence"] == "online")
    assert online["presence"] == "online"

    # ann's socket is cut; meanwhile Bea asks for a chat through the other replica
    gateway.process.kill()
    expect(ann.get_by_test_id("connection")).to_contain_text("Connection lost")
    bea = pages.open(f"{other_replica.url}/widget/demo", "Bea")
    bea.get_by_role("button", name="Chat with us").click()
    bea.get_by_label("Name", exact=True).fill("Bea")
    bea.get_by_role("button", name="Start chat").click()
    # offered to ann, whose socket is down
    [offer] = my_summary(other_replica, ann_reads, lambda me: me["offers"])["offers"]
    expect(ann.get_by_role("dialog", name="Incoming chat request")).to_have_count(0)

    gateway.process.start()
    expect(ann.get_by_test_id("connection")).to_be_hidden(timeout=30_000)
    request = ann.get_by_role("dialog", name="Incoming chat request")
    expect(request).to_contain_text("Bea")
    assert request.get_attribute("data-offer") == offer["offer_id"]
    expect(request.get_by_test_id("offer-countdown")).not_to_have_text("0 s")
    request.get_by_role("button", name="Accept").click()
    expect(bea.get_by_role("heading", name="Chat with an operator")).to_be_visible()
    expect(ann.locator("li[data-session]").filter(has_text="Bea")).to_be_visible()
    expect(ann.get_by_role("dialog", name="Incoming chat request")).to_have_count(0)


@pytest.mark.timeout(120)
def test_the_site_monitor_shows_a_visitor_who_arrives_while_it_is_open(
    pages: Pages, gateways: list[Gateway]
) -> None:
    gateway, other_replica = gateways
    cleo = pages.open(f"{gateway.url}/console/#token={gateway.operator_token('cleo')}", "cleo")
    cleo.get_by_role("button", name="Site Monitor").click()
    expect(cleo.get_by_role("heading", name="Site Monitor")).to_be_visible()

    dan = pages.open(f"{other_replica.url}/widget/demo", "Dan")  # his heartbeat, to any replica
    dan.wait_for_function("localStorage.getItem('livechat.widget.acme') !== null")
    dans_id = dan.evaluate("JSON.parse(localStorage.getItem('livechat.widget.acme')).visitor_id")
    arrived = cleo.locator(f"tr[data-visitor='{dans_id}']")
    expect(arrived).to_contain_text("Acme Gadgets")  # the demo page's title; nothing clicked
