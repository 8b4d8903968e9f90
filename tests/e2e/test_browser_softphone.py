"""The console as the agent's phone, in headless Debian Chromium with fake media devices
(a beeping microphone): a SIPp caller calls, the page shows the offer, the agent accepts,
audio frames flow both ways, hangs up and fills the wrap-up, which lands on the ticket.
Screenshots of the agent page and the board go to test-artifacts/.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.e2e.test_browser_audio import make_browser_agent
from tests.e2e.test_callback import finished
from tests.e2e.test_console_browser import Tab, board, require_chromium
from tests.e2e.test_console_call_control import ticket_text
from tests.e2e.test_hotline_call import wait_for_call
from tests.integration.harness import ROOT, Server, caller

pytestmark = pytest.mark.sip

ARTIFACTS = ROOT / "test-artifacts"
TIMEOUT_MS = 10_000


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    srv = Server(f"sqlite+aiosqlite:///{tmp_path / 'callcenter.db'}", tmp_path)
    config = yaml.safe_load((ROOT / "config" / "callcenter.yaml").read_text())
    config["http"]["allowed_origins"] = [srv.base_url]
    path = tmp_path / "callcenter.yaml"
    path.write_text(yaml.safe_dump(config))
    srv.extra_env["CALLCENTER_CONFIG"] = str(path)
    await srv.prepare()
    await make_browser_agent(srv, "alice")
    async with srv.running():
        yield srv


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    chromium = require_chromium()
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(
            executable_path=str(chromium),
            headless=True,
            args=[
                "--no-sandbox",
                "--use-fake-device-for-media-stream",
                "--use-fake-ui-for-media-stream",
                "--autoplay-policy=no-user-gesture-required",
            ],
        )
        try:
            yield launched
        finally:
            await launched.close()


async def counter(page: Page, selector: str) -> int:
    return int(await page.text_content(selector) or "0")


async def grows_past(page: Page, selector: str, at_least: int) -> int:
    """The counter once it reached at_least (frames arrive every 20 ms)."""
    deadline = asyncio.get_running_loop().time() + 15
    value = await counter(page, selector)
    while value < at_least and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.2)
        value = await counter(page, selector)
    assert value >= at_least, (selector, value)
    return value


async def test_a_browser_agent_takes_a_call_with_nothing_but_the_browser(
    browser: Browser, server: Server, tmp_path: Path
) -> None:
    context = await browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    page = await context.new_page()
    agent = Tab(page)
    assert (await page.goto(server.base_url + "/console/")) is not None
    await agent.sign_in("alice", "alice-demo")
    await expect(page.locator("#conn")).to_have_attribute("data-status", "connected")
    await page.click("#go-available")
    await expect(page.locator("#state")).to_have_attribute("data-state", "available")

    phone = await caller("caller_until_bye.xml", server, tmp_path).start()
    try:
        # The offer rings on the page, with the demo employee's devices.
        await expect(page.locator("#call-status")).to_have_attribute(
            "data-phase", "offered", timeout=20_000
        )
        await expect(page.locator("#pop-name")).to_have_text("Zhang San")
        pop = page.locator("#screen-pop")
        await expect(pop).to_contain_text("KJC-COM-0001")
        await expect(pop).to_contain_text("KJC-PRN-0001")
        await page.click("#accept")
        await expect(page.locator("#call-status")).to_have_attribute("data-phase", "connected")
        await expect(page.locator("#audio")).to_have_attribute("data-status", "live")
        sent = await grows_past(page, "#audio-sent", 50)  # 1 s of microphone
        received = await grows_past(page, "#audio-received", 50)
        later_sent = await grows_past(page, "#audio-sent", sent + 25)
        later_received = await grows_past(page, "#audio-received", received + 25)
        assert later_sent > sent and later_received > received

        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "browser-softphone-agent.png"), full_page=True)
        wall = await board(browser, server)
        row = wall.page.locator("#agents tr[data-agent=alice]")
        await expect(row).to_have_attribute("data-state", "on_call")
        await wall.page.screenshot(
            path=str(ARTIFACTS / "browser-softphone-board.png"), full_page=True
        )

        await page.click("#keypad [data-key='5']")  # RFC 4733 to this caller
        await expect(page.locator("#dtmf-sent")).to_have_text("sent: 5")
        await page.click("#hangup")
        await expect(page.locator("#call-status")).to_have_attribute("data-phase", "ended")
        await expect(page.locator("#audio")).to_have_attribute("data-status", "ended")
        await page.fill("#wu-subject", "Laptop docking station dead")
        await page.fill("#wu-resolution", "swapped the dock via the browser phone")
        await page.select_option("#wu-disposition", "resolved")
        await page.click("#wrapup-submit")
        await expect(page.locator(".toast.ok", has_text="wrap-up saved")).to_be_visible()
        await finished(phone)
    finally:
        await phone.stop()

    record = await wait_for_call(server, lambda c: c["ended_at"] is not None and c["media"])
    assert (record["outcome"], record["agent"]) == ("answered", "alice")
    assert record["disposition"] == "resolved"
    media = record["media"]
    assert media["caller_heard_level_peak"] > 0, media  # Chromium's fake microphone beeps
    saved = await ticket_text(server, record["ticket_id"])
    assert "swapped the dock via the browser phone" in saved
    agent.no_problems()
    wall.no_problems()
