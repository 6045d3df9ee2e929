"""A lost connection is shown, and the console and the widget reconnect by themselves and catch
up on what happened meanwhile, without a reload."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SITE, Gateway, Pages, running_system

GRACE_SECONDS = 2  # an online operator without a console this long is set away


@pytest.fixture(scope="module")
def gateways(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Gateway]]:
    settings = {
        "QUEUE_MANAGER_OPERATOR_DISCONNECT_GRACE_SECONDS": str(GRACE_SECONDS),
        # a crashed gateway never says its consoles closed: its claim lapses after the lease
        "QUEUE_MANAGER_OPERATOR_CONNECTION_LEASE_SECONDS": "5",
        "VISITOR_GATEWAY_PRESENCE_REFRESH_SECONDS": "1",
    }
    with running_system(tmp_path_factory.mktemp("reconnect"), gateways=2, **settings) as both:
        yield both


def presence_becomes(wanted: str, gateway: Gateway, headers: dict[str, str]) -> bool:
    """Whether ann's presence, as the Communication Summary has it, becomes `wanted` in 30 s."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        me = httpx.get(f"{gateway.url}/v1/operator/summary/me", headers=headers).json()
        if me["presence"] == wanted:
            return True
        time.sleep(0.5)
    return False


@pytest.mark.timeout(300)
def test_console_and_widget_reconnect_and_catch_up_after_the_gateway_restarts(
    pages: Pages, gateways: list[Gateway]
) -> None:
    gateway, other_replica = gateways
    site = SITE  # this module's own system: the demo page's site starts empty here too
    # The gateway is killed mid-test: requests and streams it held break, and reconnect attempts
    # fail until it is back. Expected here, and only here.
    pages.tolerate(
        r"net::ERR_(CONNECTION_REFUSED|CONNECTION_RESET|EMPTY_RESPONSE|INCOMPLETE_CHUNKED_ENCODING)"
    )

    ann = pages.open(f"{gateway.url}/console/#token={gateway.operator_token('ann')}", "ann")
    ann.get_by_label("Online", exact=True).click()
    expect(ann.get_by_label("Online", exact=True)).to_be_checked()

    ada = pages.open(f"{gateway.url}/widget/demo", "Ada")
    ada.get_by_role("button", name="Chat with us").click()
    ada.get_by_label("Name", exact=True).fill("Ada")
    ada.get_by_role("button", name="Start chat").click()
    request = ann.get_by_role("dialog", name="Incoming chat request")
    expect(request).to_contain_text("Ada")  # her badge, as an operator reads it before accepting
    request.get_by_role("button", name="Accept").click()
    expect(ada.get_by_role("heading", name="Chat with an operator")).to_be_visible()

    # The gateway both pages use crashes; meanwhile Ada writes through another replica.
    gateway.process.kill()  # a crash: its sockets and streams just break
    expect(ann.get_by_test_id("connection")).to_contain_text("Connection lost")
    expect(ada.get_by_text("Connection lost; reconnecting…")).to_be_visible()
    expect(ann.get_by_role("heading", name="Communication Summary")).to_contain_text("reconnecting")
    token = ada.evaluate(f"JSON.parse(localStorage.getItem('livechat.widget.{site}')).token")
    session = ada.evaluate(f"sessionStorage.getItem('livechat.widget.{site}.chat')")
    sent = httpx.post(
        f"{other_replica.url}/v1/visitor/sessions/{session}/messages",
        headers={"Authorization": f"Bearer {token}"},
        json={"client_message_id": uuid.uuid4().hex, "text": "sent while you were away"},
    )
    assert sent.status_code == 202, sent.text
    # The queue manager sets ann away once her console stayed disconnected past the grace.
    ann_reads = {"Authorization": f"Bearer {gateway.operator_token('ann')}"}
    assert presence_becomes("away", other_replica, ann_reads)
    gateway.process.start()

    # Both reconnect by themselves and catch up, without a reload.
    expect(ann.get_by_test_id("connection")).to_be_hidden(timeout=30_000)
    expect(ann.get_by_label("Online", exact=True)).to_be_checked()  # the console asked again
    assert presence_becomes("online", other_replica, ann_reads), "the console did not ask again"
    ann.locator("li[data-session]").filter(has_text="Ada").get_by_role(
        "button", name="Open"
    ).click()
    expect(ann.get_by_role("list", name="Transcript")).to_contain_text(
        "#1 Ada: sent while you were away"
    )
    expect(ann.get_by_role("heading", name="Communication Summary")).not_to_contain_text(
        "reconnecting"
    )
    expect(ada.get_by_role("list", name="Transcript")).to_contain_text("sent while you were away")
