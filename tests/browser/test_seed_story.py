"""The seed's whole story in a real browser: two operators at their consoles and five visitors
on a page with the widget, each in its own browser context."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import Gateway, Pages


def console(pages: Pages, gateway: Gateway, operator: str) -> Page:
    page = pages.open(f"{gateway.url}/console/#token={gateway.operator_token(operator)}", operator)
    expect(page.get_by_role("heading", name="My Communication")).to_be_visible()
    expect(page.get_by_test_id("connection")).to_be_hidden()  # the socket is open
    return page


def visitor(pages: Pages, gateway: Gateway, name: str) -> Page:
    page = pages.open(f"{gateway.url}/widget/demo", name)
    page.get_by_role("button", name="Chat with us").click()
    page.get_by_label("Name", exact=True).fill(name)
    return page


def ask(page: Page, channel: str = "chat") -> None:
    page.get_by_role("button", name="Start chat" if channel == "chat" else "Call us").click()


def presence(page: Page, choice: str) -> None:
    page.get_by_label(choice, exact=True).click()
    expect(page.get_by_label(choice, exact=True)).to_be_checked()


def offer(page: Page) -> Locator:
    dialog = page.get_by_role("dialog", name="Incoming chat request")
    expect(dialog).to_be_visible()
    return dialog


def row(page: Page, name: str) -> Locator:
    return page.locator("li[data-session]").filter(has_text=name)


def visitor_id(page: Page) -> str:
    found = page.evaluate("JSON.parse(localStorage.getItem('livechat.widget.acme')).visitor_id")
    assert isinstance(found, str)
    return found


def focus_ring(page: Page) -> str:
    style = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert isinstance(style, str)
    return style


@pytest.mark.timeout(300)
def test_two_operators_and_five_visitors_go_through_the_seed_story(
    pages: Pages, gateway: Gateway, screenshots: Path
) -> None:
    ann = console(pages, gateway, "ann")
    bob = console(pages, gateway, "bob")
    presence(ann, "Online")

    # Ada asks; ann's Incoming chat request opens by itself and is answered by keyboard only.
    ada = visitor(pages, gateway, "Ada")
    ask(ada)
    dialog = offer(ann)
    expect(dialog).to_contain_text("Ada")
    expect(dialog.get_by_test_id("offer-channel")).to_have_text("chat")
    expect(dialog.get_by_test_id("offer-countdown")).to_have_text(re.compile(r"^\d+ s$"))
    ann.screenshot(path=screenshots / "console-incoming-chat-request.png")
    accept, decline, put_back = (
        dialog.get_by_role("button", name=n) for n in ("Accept", "Decline", "Put back in queue")
    )
    expect(accept).to_be_focused()
    ann.keyboard.press("Tab")
    expect(decline).to_be_focused()
    assert focus_ring(ann) != "none"
    ann.keyboard.press("Tab")
    expect(put_back).to_be_focused()
    assert focus_ring(ann) != "none"
    ann.keyboard.press("Tab")
    expect(accept).to_be_focused()  # the focus stays inside the dialog
    assert focus_ring(ann) != "none"
    ann.keyboard.press("Shift+Tab")
    ann.keyboard.press("Shift+Tab")
    expect(decline).to_be_focused()
    ann.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(ada.get_by_test_id("position")).to_have_text("1")  # declined: waits again, first

    # bob comes online and gets Ada, accepted with the keyboard (focus starts on Accept).
    presence(bob, "Online")
    expect(offer(bob)).to_contain_text("Ada")
    bob.keyboard.press("Enter")
    expect(row(bob, "Ada")).to_contain_text("Active")
    expect(ada.get_by_role("heading", name="Chat with an operator")).to_be_visible()
    ada.get_by_label("Your message").fill("Hello from Ada")
    ada.get_by_role("button", name="Send", exact=True).click()
    row(bob, "Ada").get_by_role("button", name="Open").click()
    transcript = bob.get_by_role("list", name="Transcript")
    expect(transcript.locator("li[data-seq='1']")).to_contain_text("#1 Ada: Hello from Ada")
    bob.get_by_label("Reply").fill("Hi Ada, this is bob")
    bob.get_by_role("button", name="Send", exact=True).click()
    expect(transcript.locator("li[data-seq='2']")).to_contain_text("#2 You: Hi Ada, this is bob")
    expect(ada.get_by_role("list", name="Transcript")).to_contain_text("Hi Ada, this is bob")

    # Ben asks: ann puts him back in the queue, so does bob; Next chat has nobody for ann.
    ben = visitor(pages, gateway, "Ben")
    ask(ben)
    expect(offer(ann)).to_contain_text("Ben")
    offer(ann).get_by_role("button", name="Put back in queue").click()
    expect(offer(bob)).to_contain_text("Ben")
    offer(bob).get_by_role("button", name="Put back in queue").click()
    expect(ben.get_by_test_id("position")).to_have_text("1")
    ann.get_by_role("button", name="Next chat").click()
    expect(ann.get_by_role("alert")).to_contain_text(
        "Next chat could not be done: Nobody is waiting in the chat queue."
    )

    # ann picks Ben from the Communication Queue for a voice chat.
    ann.get_by_role("button", name="Communication Queue").click()
    queue_row = ann.locator("tr[data-visitor]").filter(has_text="Ben")
    expect(queue_row).to_contain_text("Waiting")
    queue_row.get_by_role("radio").check()
    ann.get_by_role("button", name="Start voice chat").click()
    expect(ben.get_by_role("heading", name="Call with an operator")).to_be_visible()
    ann.get_by_role("button", name=re.compile(r"^My Communication")).click()
    expect(row(ann, "Ben")).to_contain_text("call")

    # Cleo and Dee go to ann (bob put Ben back: no automatic offers until his Next chat).
    cleo = visitor(pages, gateway, "Cleo")
    ask(cleo)
    expect(offer(ann)).to_contain_text("Cleo")  # her badge, before answering
    offer(ann).get_by_role("button", name="Accept").click()
    dee = visitor(pages, gateway, "Dee")
    ask(dee)
    expect(offer(ann)).to_contain_text("Dee")  # her badge, before answering
    offer(ann).get_by_role("button", name="Accept").click()
    expect(row(ann, "Cleo")).to_contain_text("Active")
    expect(row(ann, "Dee")).to_contain_text("Active")

    # Eve finds everyone busy: she waits, and sees her place.
    eve = visitor(pages, gateway, "Eve")
    ask(eve)
    expect(eve.get_by_test_id("position")).to_have_text("1")
    expect(eve.get_by_role("dialog", name="Live chat")).to_contain_text("of 1 waiting")
    expect(eve.get_by_role("button", name="Leave a message instead")).to_be_visible()
    eve.screenshot(path=screenshots / "widget-waiting-in-queue.png")

    # bob holds Ada; Ada sees it.
    row(bob, "Ada").get_by_role("button", name="Hold").click()
    expect(row(bob, "Ada")).to_contain_text("On hold")
    expect(ada.get_by_test_id("held")).to_be_visible()
    ada.screenshot(path=screenshots / "widget-chat-on-hold.png")

    # The Communication Summary on screen says what the API says.
    api = httpx.get(
        f"{gateway.url}/v1/operator/summary",
        headers={"Authorization": f"Bearer {gateway.operator_token('ann')}"},
    ).json()
    assert api["queues"]["chats"]["waiting"] == 1 and api["in_progress"]["on_hold"] == 1, api
    for page in (ann, bob):
        expect(page.get_by_test_id("queue-chats")).to_have_text(
            str(api["queues"]["chats"]["waiting"])
        )
        expect(page.get_by_test_id("queue-calls")).to_have_text(
            str(api["queues"]["calls"]["waiting"])
        )
        expect(page.get_by_test_id("queue-messages")).to_have_text(
            str(api["queues"]["messages"]["waiting"])
        )
        expect(page.get_by_test_id("in-progress-active")).to_have_text(
            str(api["in_progress"]["active"])
        )
        expect(page.get_by_test_id("in-progress-on-hold")).to_have_text(
            str(api["in_progress"]["on_hold"])
        )
    ann.screenshot(path=screenshots / "console-my-communication.png")

    # Rolled up, the summary shows only the Queues; opened again, everything.
    ann.get_by_role("button", name="Roll up").click()
    expect(ann.get_by_test_id("in-progress-active")).to_be_hidden()
    expect(ann.get_by_test_id("queue-chats")).to_have_text("1")
    ann.screenshot(path=screenshots / "console-summary-rolled-up.png")
    ann.get_by_role("button", name="Open summary").click()
    expect(ann.get_by_test_id("in-progress-active")).to_be_visible()

    # bob ends Ada's chat, then takes the next visitor with Next chat.
    row(bob, "Ada").get_by_role("button", name="End").click()
    expect(ada.get_by_test_id("ended")).to_be_visible()
    bob.get_by_role("button", name="Next chat").click()
    expect(offer(bob)).to_contain_text("Eve")
    offer(bob).get_by_role("button", name="Accept").click()
    expect(eve.get_by_role("heading", name="Chat with an operator")).to_be_visible()

    # Cleo writes: ann sees it unread, in the Chat overview, and in Cleo's Live Communication.
    cleo.get_by_label("Your message").fill("Is the blue one in stock?")
    cleo.get_by_role("button", name="Send", exact=True).click()
    expect(row(ann, "Cleo").get_by_test_id("unread")).to_have_text("1")
    ann.get_by_role("button", name="Chat overview").click()
    message = ann.locator("li.row").filter(has_text="Is the blue one in stock?")
    message.get_by_role("link", name="Site visitor").click()
    expect(ann.get_by_test_id("profile-name")).to_have_text("Cleo")
    expect(ann.get_by_role("list", name="Transcript")).to_contain_text("#1 Cleo: Is the blue one")
    ann.screenshot(path=screenshots / "console-live-communication.png")

    # A double-click on a badge anywhere opens that visitor's profile.
    ann.get_by_role("button", name=re.compile(r"^My Communication")).click()
    row(ann, "Dee").locator(".badge").dblclick()
    expect(ann.get_by_test_id("profile-name")).to_have_text("Dee")

    # Dee's chat ends; she leaves a message instead, answered with Next message.
    row(ann, "Dee").get_by_role("button", name="End").click()
    expect(dee.get_by_test_id("ended")).to_be_visible()
    dee.get_by_role("button", name="Start a new chat").click()
    dee.get_by_role("button", name="Leave a message").click()
    dee.get_by_label("E-mail", exact=True).fill("dee@example.com")
    dee.get_by_label("Message").fill("Please call me back tomorrow.")
    dee.get_by_role("button", name="Send message").click()
    expect(dee.get_by_test_id("message-sent")).to_be_visible()
    expect(ann.get_by_test_id("queue-messages")).to_have_text("1")
    ann.get_by_role("button", name="Next message").click()
    card = ann.get_by_role("article", name="Message to answer")
    expect(card).to_contain_text("Please call me back tomorrow.")
    card.get_by_label("Reply (sent by e-mail)").fill("We will call you at ten.")
    card.get_by_role("button", name="Send reply").click()
    expect(card).to_be_hidden()
    expect(ann.get_by_test_id("queue-messages")).to_have_text("0")

    # Ada, still browsing, is invited from the Site Monitor and accepts.
    ann.get_by_role("button", name="Site Monitor").click()
    browsing = ann.locator(f"tr[data-visitor='{visitor_id(ada)}']")
    expect(browsing).to_contain_text("Acme Gadgets")
    browsing.get_by_role("button", name="Invite").click()
    ada.get_by_role("button", name="Accept invitation").click()
    expect(ada.get_by_role("heading", name="Chat with an operator")).to_be_visible()
    ann.get_by_role("button", name=re.compile(r"^My Communication")).click()
    expect(ann.locator("li[data-session]")).to_have_count(3)  # Ben's call, Cleo, Ada


@pytest.mark.timeout(300)
def test_an_administrator_changes_the_maximum_number_of_chats_at_run_time(
    pages: Pages, gateway: Gateway, screenshots: Path
) -> None:
    token = gateway.operator_token("ann", admin=True)
    ann = pages.open(f"{gateway.url}/console/#token={token}", "ann (admin)")
    bob = console(pages, gateway, "bob")
    expect(bob.get_by_test_id("max-chats")).to_have_text("2")
    expect(bob.get_by_role("button", name="Maximum number of chats")).to_have_count(0)

    ann.get_by_role("button", name="Maximum number of chats").click()
    site_wide = ann.get_by_label(re.compile(r"^Site-wide maximum"))
    expect(site_wide).to_have_value("2")
    expect(ann.get_by_text("(the default; never set for this site)")).to_be_visible()
    site_wide.fill("3")
    ann.get_by_role("button", name="Save").first.click()
    expect(ann.get_by_text("(the default; never set for this site)")).to_be_hidden()
    expect(bob.get_by_test_id("max-chats")).to_have_text("3")  # live, without a reload

    ann.get_by_label("Maximum number of chats for bob").fill("1")
    ann.locator("tr[data-operator='bob']").get_by_role("button", name="Save").click()
    expect(bob.get_by_test_id("max-chats")).to_have_text("1")
    expect(bob.get_by_test_id("capacity")).to_contain_text("your own maximum; the site's is 3")
    ann.screenshot(path=screenshots / "console-maximum-number-of-chats.png")
    settings = httpx.get(
        f"{gateway.url}/v1/admin/settings", headers={"Authorization": f"Bearer {token}"}
    ).json()
    assert settings["max_chats"] == 3 and not settings["from_default"], settings
    assert {"operator_id": "bob", "max_chats": 1} in settings["operators"], settings
