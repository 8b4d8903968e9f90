"""The consoles in a real browser: headless Debian Chromium, driven by Playwright, against a
real `callcenter serve` (pjsua2 bridge, ACD, WebSockets) and, for the screen pop, SIPp
phones. Every page must also run without a JavaScript error or a CSP violation.

Chromium is the Debian package (`/usr/bin/chromium`, installed by `make`); Playwright
never downloads a browser here. Without it the tests skip, and fail under CI=true.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from playwright.async_api import Browser, ConsoleMessage, Page, async_playwright, expect

from callcenter.tickets.records import Ticket
from callcenter.tickets.sla import ClockKind
from callcenter.tickets.store import open_store
from callcenter.tickets.workflow import AuditEntry
from tests.integration.harness import ROOT, Server, agent_phone, caller
from tests.services import unavailable

pytestmark = pytest.mark.sip

CHROMIUM = Path(os.environ.get("CALLCENTER_TEST_CHROMIUM", "/usr/bin/chromium"))
TIMEOUT_MS = 10_000


def require_chromium() -> Path:
    if not os.access(CHROMIUM, os.X_OK):
        unavailable(f"Chromium at {CHROMIUM} (Debian package chromium)")
    return CHROMIUM


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    srv = Server(f"sqlite+aiosqlite:///{tmp_path / 'callcenter.db'}", tmp_path)
    # The page's own origin must be allowed: the configured list names port 8080 only.
    config = yaml.safe_load((ROOT / "config" / "callcenter.yaml").read_text())
    config["http"]["allowed_origins"] = [srv.base_url]
    path = tmp_path / "callcenter.yaml"
    path.write_text(yaml.safe_dump(config))
    srv.extra_env["CALLCENTER_CONFIG"] = str(path)
    await srv.prepare()
    async with srv.running():
        yield srv


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    chromium = require_chromium()
    async with async_playwright() as pw:
        # --no-sandbox: the tests run as root in CI, where Chromium's sandbox refuses to start.
        launched = await pw.chromium.launch(
            executable_path=str(chromium), headless=True, args=["--no-sandbox"]
        )
        try:
            yield launched
        finally:
            await launched.close()


class Tab:
    """One page in its own context, with every console error and page error kept."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))

    def _console(self, message: ConsoleMessage) -> None:
        # A CSP violation is reported as a console error, so this catches those too. A
        # refused WebSocket upgrade or a failed login is logged by Chromium as well; the
        # tests that cause one say so.
        if message.type == "error":
            self.problems.append(message.text)

    async def sign_in(self, username: str, password: str) -> None:
        await self.page.fill("#username", username)
        await self.page.fill("#password", password)
        await self.page.click("#login-form button[type=submit]")

    def no_problems(self, allowed: tuple[str, ...] = ()) -> None:
        left = [p for p in self.problems if not any(a in p for a in allowed)]
        assert not left, left


async def open_tab(browser: Browser, url: str) -> Tab:
    context = await browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    page = await context.new_page()
    tab = Tab(page)
    response = await page.goto(url)
    assert response is not None and response.status == 200
    return tab


async def agent_desk(browser: Browser, server: Server, username: str = "alice") -> Tab:
    tab = await open_tab(browser, server.base_url + "/console/")
    await tab.sign_in(username, f"{username}-demo")
    await expect(tab.page.locator("#conn")).to_have_attribute("data-status", "connected")
    await expect(tab.page.locator("#who")).to_have_text(username)
    return tab


async def board(browser: Browser, server: Server) -> Tab:
    tab = await open_tab(browser, server.base_url + "/console/board.html")
    await tab.sign_in("sue", "sue-demo")
    await expect(tab.page.locator("#conn")).to_have_attribute("data-status", "connected")
    return tab


# ----- serving ---------------------------------------------------------------------------


async def test_pages_are_public_strict_and_data_still_needs_a_token(server: Server) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as session:
        for path in ("/console/", "/console/agent.html", "/console/board.html"):
            async with session.get(server.base_url + path) as resp:
                assert resp.status == 200, path
                assert resp.headers["Content-Type"].startswith("text/html")
                csp = resp.headers["Content-Security-Policy"]
                assert "default-src 'none'" in csp and "script-src 'self'" in csp
                assert "connect-src 'self'" in csp and "frame-ancestors 'none'" in csp
                assert resp.headers["X-Content-Type-Options"] == "nosniff"
        async with session.get(server.base_url + "/console/console.js") as resp:
            assert resp.status == 200
            assert resp.headers["Content-Type"].startswith("text/javascript")
        async with session.get(server.base_url + "/console", allow_redirects=False) as resp:
            assert resp.status == 308 and resp.headers["Location"] == "/console/"
        for missing in ("/console/nothing.html", "/console/%2e%2e/app.py", "/console/../app.py"):
            async with session.get(server.base_url + missing) as resp:
                assert resp.status == 404, missing
    status, _ = await server.request("GET", "/api/v1/agents")
    assert status == 401


# ----- the agent's console and the board -------------------------------------------------


async def test_a_wrong_password_shows_an_error(browser: Browser, server: Server) -> None:
    tab = await open_tab(browser, server.base_url + "/console/")
    await tab.sign_in("alice", "not-her-password")
    await expect(tab.page.locator("#login-error")).to_contain_text("invalid_credentials")
    await expect(tab.page.locator("#desk")).to_be_hidden()

    # A supervisor account is told off before any socket opens.
    await tab.sign_in("sue", "sue-demo")
    await expect(tab.page.locator("#login-error")).to_contain_text("forbidden")
    # Chromium logs the 401 of the failed login itself.
    tab.no_problems(allowed=("401",))


async def test_the_agent_goes_available_and_the_board_follows(
    browser: Browser, server: Server
) -> None:
    agent = await agent_desk(browser, server)
    state = agent.page.locator("#state")
    await expect(state).to_have_attribute("data-state", "logged_out")

    await agent.page.click("#go-available")
    await expect(state).to_have_attribute("data-state", "available")
    await expect(state).to_have_text("available")
    first = await agent.page.text_content("#state-time")
    await asyncio.sleep(1.3)
    assert await agent.page.text_content("#state-time") != first  # it counts on

    wall = await board(browser, server)
    queue = wall.page.locator("[data-queue=helpdesk]")
    await expect(queue).to_be_visible()
    await expect(queue.locator("[data-field=waiting] .value")).to_have_text("0")
    await expect(queue.locator(".chips [data-state=available]")).to_have_attribute(
        "data-count", "1"
    )
    row = wall.page.locator("#agents tr[data-agent=alice]")
    await expect(row).to_have_attribute("data-state", "available")
    await expect(row).to_contain_text("● on")

    # The supervisor forces alice into a pause; both pages follow.
    await wall.page.select_option("#force-agent", "alice")
    await wall.page.select_option("#force-state", "paused")
    await wall.page.select_option("#force-reason", "meeting")
    await wall.page.click("#force-submit")
    await expect(state).to_have_attribute("data-state", "paused")
    await expect(agent.page.locator("#state-reason")).to_have_text("reason: meeting")
    await expect(row).to_have_attribute("data-state", "paused")  # after the next tick

    # A refused supervisor request shows its code: bob may not be paused for "golf"
    # (not offered by the form, so the page is made to ask for it).
    await wall.page.select_option("#force-agent", "bob")
    await wall.page.eval_on_selector(
        "#force-reason", "s => { s.append(new Option('golf')); s.value = 'golf'; }"
    )
    await wall.page.click("#force-submit")
    toast = wall.page.locator(".toast.error[data-code=unknown_pause_reason]")
    await expect(toast).to_be_visible()

    # The agent pauses itself with a reason from the list.
    await agent.page.click("#go-available")
    await expect(state).to_have_attribute("data-state", "available")
    await agent.page.select_option("#pause-reason", "lunch")
    await agent.page.click("#go-paused")
    await expect(agent.page.locator("#state-reason")).to_have_text("reason: lunch")
    await expect(row).to_have_attribute("data-state", "paused")
    await expect(row).to_contain_text("lunch")

    agent.no_problems()
    wall.no_problems()


async def test_the_board_shows_the_open_sla_alerts(browser: Browser, server: Server) -> None:
    """A breach the monitor recorded is on the board's "SLA alerts" panel from its snapshot."""
    store = open_store(server.database_url, "CN")
    try:
        employee = await store.employee_by_username("zhangsanKJC")
        assert employee is not None
        opened = datetime.now(UTC) - timedelta(days=7)
        await store.open_call_record("e2e-sla", None, "+862088881001", employee.id, opened)
        ticket_id = await store.attach_call_to_incident("e2e-sla", employee.id, opened, 8.0)
        clock = (await store.sla_clocks(ticket_id))[ClockKind.FIRST_RESPONSE]
        key = (ticket_id, ClockKind.FIRST_RESPONSE.value, "breach", clock.target_seconds)
        await store.record_sla_scan([(key, opened + timedelta(hours=1))], [], datetime.now(UTC))
    finally:
        await store.close()

    wall = await board(browser, server)
    item = wall.page.locator(f"#alerts .alert-item.sla_breach[data-ticket='{ticket_id}']").first
    await expect(item).to_be_visible()
    await expect(item).to_contain_text("SLA breached")
    await expect(wall.page.locator("#alerts-none")).to_be_hidden()
    await expect(wall.page.locator("#alerts-count")).not_to_have_text("0")
    wall.no_problems()


async def test_a_page_from_another_origin_gets_no_socket(browser: Browser, server: Server) -> None:
    """localhost:<port> is the same server but not in allowed_origins: the upgrade gets 403
    and the page says it is offline and retrying, without breaking."""
    url = server.base_url.replace("127.0.0.1", "localhost") + "/console/"
    tab = await open_tab(browser, url)
    await tab.sign_in("alice", "alice-demo")
    await expect(tab.page.locator("#conn")).to_have_attribute("data-status", "offline")
    await expect(tab.page.locator("#conn")).to_contain_text("retrying")
    tab.no_problems(allowed=("WebSocket",))


async def test_an_offer_pops_the_screen_and_call_requests_show_their_errors(
    browser: Browser, server: Server, tmp_path: Path
) -> None:
    phone = await agent_phone("agent_answer.xml", server.agents["alice"], tmp_path).start()
    agent = await agent_desk(browser, server)
    page = agent.page
    await page.click("#go-available")
    await expect(page.locator("#state")).to_have_attribute("data-state", "available")

    zhang_san = await caller("caller.xml", server, tmp_path, talk_ms=6000).start()
    try:
        pop = page.locator("#screen-pop")
        await expect(page.locator("#pop-name")).to_have_text("Zhang San", timeout=20_000)
        await expect(pop).to_contain_text("+862088881001")
        await expect(pop).to_contain_text("KJC-COM-0001")
        await expect(pop).to_contain_text("KJC-PRN-0001")
        await expect(pop.locator("[data-warranty]").first).to_be_visible()
        # Knowledge-base articles for Zhang San's computer and printer models.
        await expect(page.locator("#pop-kb li").first).to_be_visible()
        await expect(page.locator("#call-status")).to_have_attribute(
            "data-phase", "connected", timeout=15_000
        )
        await expect(page.locator("#state")).to_have_attribute("data-state", "on_call")

        # Hold and resume go through the call flow; the keypad sends the key to the
        # caller (RFC 4733); the wrap-up form lands on the ticket.
        await page.click("#hold")
        await expect(page.locator("#call-status")).to_have_attribute("data-phase", "held")
        await page.click("#resume")
        await expect(page.locator("#call-status")).to_have_attribute("data-phase", "connected")
        await page.click("#keypad [data-key='5']")
        await expect(page.locator("#dtmf-sent")).to_have_text("sent: 5")
        # The desk phone carries this agent's audio: the page says so.
        await expect(page.locator("#audio")).to_have_attribute("data-status", "phone")
        await page.fill("#wu-subject", "Printer jams again")
        await page.fill("#wu-category", "printer")
        await page.fill("#wu-description", "tray 2 jams on every page")
        await page.fill("#wu-resolution", "cleaned the rollers")
        await page.check("#wu-fcr")
        article = await page.locator("#pop-kb li").first.get_attribute("data-article")
        await page.select_option("#wu-kb", article)
        await page.click("#wrapup-submit")
        saved = page.locator(".toast.ok", has_text="wrap-up saved")
        await expect(saved).to_be_visible()
        await expect(page.locator(".toast.error")).to_have_count(0)
        ticket_id = int((await saved.inner_text()).rsplit("#", 1)[1].split()[0])
        ticket = await saved_ticket(server, ticket_id)
        assert (ticket.subject, ticket.category, ticket.resolution) == (
            "Printer jams again",
            "printer",
            "cleaned the rollers",
        )
        assert (ticket.status.value, ticket.first_contact_resolved) == ("resolved", True)
        trail = await saved_audit(server, ticket_id)
        assert ("kb_article", article) in [(e.field, e.new) for e in trail]

        # The caller hangs up after talking: the console shows the end, the pop stays.
        await expect(page.locator("#call-status")).to_have_attribute(
            "data-phase", "ended", timeout=20_000
        )
        await expect(page.locator("#pop-name")).to_have_text("Zhang San")
        await expect(page.locator("#state")).to_have_attribute("data-state", "available")
        code, out = await zhang_san.wait(30)
        assert code == 0, out
        code, out = await phone.wait(30)
        assert code == 0, out
    finally:
        await zhang_san.stop()
        await phone.stop()
    agent.no_problems()


async def saved_ticket(server: Server, ticket_id: int) -> Ticket:
    store = open_store(server.database_url, "CN")
    try:
        ticket = await store.ticket(ticket_id)
    finally:
        await store.close()
    assert ticket is not None
    return ticket


async def saved_audit(server: Server, ticket_id: int) -> list[AuditEntry]:
    store = open_store(server.database_url, "CN")
    try:
        return await store.ticket_audit(ticket_id)
    finally:
        await store.close()
