"""Browser tests: Debian's Chromium driven by Playwright against the whole system (every
service its own process on the real RabbitMQ), one system per test module. Every page's
console errors fail the test."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Playwright,
    expect,
    sync_playwright,
)
from visitor_gateway.domain.auth import Caller, issue

from tests.support.clients import TOKEN_SECRET
from tests.support.embedded import embedded_store_env
from tests.support.processes import ServiceProcess, behind_the_gateway

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
WEB_DIST = ROOT / "services" / "visitor-gateway" / "web" / "dist"
DOC_SCREENSHOTS = ROOT / "docs" / "screenshots"
SITE = "acme"  # the widget demo page's data-site
MAX_CHATS = 2
SERVICES = (
    "QUEUE_MANAGER",
    "SESSION_SERVICE",
    "VISITOR_GATEWAY",
    "OFFLINE_MESSAGES",
    "SUMMARY_PROJECTOR",
)

pytestmark = pytest.mark.e2e
expect.set_options(timeout=20_000)  # a busy 2-core machine runs five services and a browser


@dataclass
class Gateway:
    process: ServiceProcess

    @property
    def url(self) -> str:
        return self.process.url

    def operator_token(self, operator_id: str, site: str = SITE, admin: bool = False) -> str:
        caller = Caller(role="operator", site_id=site, subject=operator_id, admin=admin)
        return issue(TOKEN_SECRET, caller, timedelta(hours=1))


@dataclass
class Pages:
    """Every page a test opens, with the errors their consoles logged."""

    browser: Browser
    errors: list[str] = field(default_factory=list)
    tolerated: list[re.Pattern[str]] = field(default_factory=list)

    def tolerate(self, pattern: str) -> None:
        """Errors this test causes on purpose (a gateway it stops): not failures."""
        self.tolerated.append(re.compile(pattern))

    def open(self, url: str, name: str) -> Page:
        context = self.browser.new_context(viewport={"width": 1280, "height": 860})
        context.set_default_timeout(20_000)
        page = context.new_page()

        def console(message: ConsoleMessage) -> None:
            if message.type == "error":
                self.errors.append(f"{name}: {message.text} ({message.location.get('url')})")

        page.on("console", console)
        page.on("pageerror", lambda error: self.errors.append(f"{name}: {error}"))
        page.goto(url)
        return page


@contextmanager
def running_system(logs: Path, gateways: int = 1, **settings: str) -> Iterator[list[Gateway]]:
    """The five services as processes on the real RabbitMQ (`gateways` gateway replicas)."""
    if not (WEB_DIST / "widget.js").is_file():
        pytest.fail("the web front end is not built: run `make web` (make test does)")
    env = {
        "INTERNAL_API_TOKEN": "browser-internal-token-0123456789",
        "VISITOR_GATEWAY_TOKEN_SECRET": TOKEN_SECRET,
        **embedded_store_env(logs),
        "QUEUE_MANAGER_MAX_CHATS": str(MAX_CHATS),
        "QUEUE_MANAGER_OFFER_TIMEOUT_SECONDS": "60",
        "QUEUE_MANAGER_INVITATION_TIMEOUT_SECONDS": "60",
        "VISITOR_GATEWAY_BROWSING_TIMEOUT_SECONDS": "60",
        # A chat outlives its visitor's lost socket this long: the reconnect test keeps the
        # gateway down until the operator is set away, which on a loaded machine nears the
        # default minute (the chat then ended before the widget could come back).
        "SESSION_SERVICE_VISITOR_GRACE_SECONDS": "300",
        "VISITOR_GATEWAY_WEB_DIR": str(WEB_DIST),
        "VISITOR_GATEWAY_OFFER_MESSAGE_AFTER_SECONDS": "3",
        **{f"{s}_LOG_LEVEL": "WARNING" for s in SERVICES},
        **settings,
    }
    sessions, offline, projector = behind_the_gateway(env, logs)
    edge = [
        ServiceProcess("visitor_gateway", env, logs / f"gateway-{n}.log") for n in range(gateways)
    ]
    inside = [
        ServiceProcess("queue_manager", env, logs / "queue_manager.log"),
        sessions,
        offline,
        projector,
    ]
    processes = [*inside, *edge]
    try:
        # The services behind the gateway start side by side (nobody publishes to them before
        # a gateway takes requests); the gateways once their input queues exist.
        for group in (inside, edge):
            for process in group:
                process.launch()
            for process in group:
                process.await_ready(120)
        yield [Gateway(process) for process in edge]
    finally:
        for process in processes:
            process.stop()


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.fail(f"{CHROMIUM} is missing: run scripts/ensure-chromium.sh (make test does)")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def pages(browser: Browser) -> Iterator[Pages]:
    opened = Pages(browser)
    yield opened
    for context in browser.contexts:
        context.close()
    errors = [e for e in opened.errors if not any(p.search(e) for p in opened.tolerated)]
    assert not errors, "errors in the browser console:\n" + "\n".join(errors)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """The whole system with one gateway, for the seed story on the demo page's site."""
    with running_system(tmp_path_factory.mktemp("browser")) as (gateway,):
        yield gateway


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the tests put their screenshots: docs/screenshots with UPDATE_SCREENSHOTS=1 (`make
    screenshots`), otherwise a temporary folder, so a test run leaves the checkout unchanged."""
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        DOC_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return DOC_SCREENSHOTS
    return tmp_path_factory.mktemp("screenshots")
