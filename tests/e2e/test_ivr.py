"""The demo IVR of config/ivr.yaml on a live call, driven by RFC 4733 keys from SIPp."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e.test_hotline_call import run_pair, wait_for_call
from tests.integration.harness import ROOT, Server, agent_phone, dtmf_caller, metric_value

pytestmark = pytest.mark.sip


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    srv = Server(
        f"sqlite+aiosqlite:///{tmp_path / 'callcenter.db'}",
        tmp_path,
        ivr_file=ROOT / "config" / "ivr.yaml",
    )
    await srv.prepare()
    async with srv.running():
        yield srv


async def test_menu_choice_routes_the_call_by_skill(server: Server, tmp_path: Path) -> None:
    alice = await agent_phone("agent_answer.xml", server.agents["alice"], tmp_path).start()
    bob = await agent_phone("agent_answer.xml", server.agents["bob"], tmp_path).start()
    await server.set_state("alice", "available")  # idle longest, but no hardware skill
    await server.set_state("bob", "available")
    # "2" (hardware and printers), pressed during the welcome: it barges in and is
    # taken by the main menu.
    phone = await dtmf_caller(server, tmp_path, "2", talk_ms=9000).start()
    code, out = await phone.wait(60)
    assert code == 0, out
    await run_pair_phones(bob)
    await alice.stop()  # alice's phone never rang

    record = await wait_for_call(server, lambda c: c["ended_at"] is not None)
    assert (record["outcome"], record["agent"]) == ("answered", "bob")
    # Only keys came from this caller, no voice; bob's phone played speech. The one-way
    # audio check sees exactly that: the caller heard bob, bob heard silence.
    assert record["media"]["caller_heard_level_peak"] > 0
    assert record["media"]["agent_heard_level_peak"] == 0
    token = await server.login("sue", "sue-demo")
    status, history = await server.request("GET", f"/api/v1/calls/{record['id']}/events", token)
    assert status == 200
    [enqueued] = [e for e in history["events"] if e["type"] == "CallEnqueued"]
    assert enqueued["data"]["skills"] == {"hardware": 1}
    metrics = await server.metrics()
    assert metric_value(metrics, "callcenter_ivr_outcomes_total", outcome="queued") == 1
    assert metric_value(metrics, "callcenter_ivr_outcomes_total", outcome="caller_hangup") == 0
    # config/ivr.yaml keeps the line open around the clock (hours: always).
    for flow in ("helpdesk", "helpdesk_zh"):
        assert metric_value(metrics, "callcenter_in_service_hours", flow=flow) == 1


async def run_pair_phones(*phones: object) -> None:
    await run_pair(_Done(), list(phones))


class _Done:
    """A caller already waited for: run_pair only needs its result."""

    async def wait(self, timeout: float) -> tuple[int, str]:
        return 0, ""

    def traces(self) -> str:
        return ""
