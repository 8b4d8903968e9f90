"""The IVR on live calls where time matters: a desk closed by its configured hours (the
closed message, the urgent-outage key, or the hang-up after the message), and a caller
who puts the call on hold while a menu waits for a key (the menu's timer waits too)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml

from tests.e2e.test_hotline_call import wait_for_call
from tests.e2e.test_ivr import run_pair_phones
from tests.integration.harness import (
    ROOT,
    Server,
    Sipp,
    agent_phone,
    caller,
    caller_args,
    dtmf_caller,
    metric_value,
)

pytestmark = pytest.mark.sip


def closed_desk(workdir: Path) -> Path:
    """The demo flows of config/ivr.yaml with hours that exclude every moment: the
    desk's clock is read through the configuration, whatever time the test runs."""
    path = workdir / "ivr-closed.yaml"
    spec = {
        "base": str(ROOT / "config" / "ivr.yaml"),
        "hours": {"timezone": "Asia/Shanghai", "weekly": {"mon-sun": "closed"}},
    }
    path.write_text(yaml.safe_dump(spec))
    return path


def menu_then_queue(workdir: Path) -> Path:
    """A menu with a 4 s timeout whose default ends the call; key 1 goes to the queue."""
    path = workdir / "ivr-menu.yaml"
    spec = {
        "prompts": str(ROOT / "config" / "prompts.yaml"),
        "default": "menu",
        "flows": {
            "menu": {
                "language": "en",
                "queue": "helpdesk",
                "start": "choose",
                "nodes": {
                    "choose": {
                        "kind": "menu",
                        "prompts": ["goodbye"],
                        "choices": {"1": "desk"},
                        "tries": 1,
                        "timeout": 4,
                        "default": "timed_out",
                    },
                    "timed_out": {"kind": "message", "prompts": ["no_input"]},
                    "desk": {"kind": "queue"},
                },
            }
        },
    }
    path.write_text(yaml.safe_dump(spec))
    return path


async def started(workdir: Path, ivr_file: Path) -> AsyncIterator[Server]:
    srv = Server(f"sqlite+aiosqlite:///{workdir / 'callcenter.db'}", workdir, ivr_file=ivr_file)
    await srv.prepare()
    async with srv.running():
        yield srv


@pytest.fixture
async def closed(tmp_path: Path) -> AsyncIterator[Server]:
    async for srv in started(tmp_path, closed_desk(tmp_path)):
        yield srv


async def ivr_outcome(server: Server, outcome: str) -> float | None:
    return metric_value(await server.metrics(), "callcenter_ivr_outcomes_total", outcome=outcome)


async def test_closed_desk_urgent_key_reaches_an_agent(closed: Server, tmp_path: Path) -> None:
    alice = await agent_phone("agent_answer.xml", closed.agents["alice"], tmp_path).start()
    await closed.set_state("alice", "available")
    # 9 during the closed message (after the welcome): the on-call way through.
    phone = await dtmf_caller(closed, tmp_path, "9", first_key_ms=6000, talk_ms=9000).start()
    code, out = await phone.wait(60)
    assert code == 0, f"{out}\n{phone.traces()}"
    await run_pair_phones(alice)

    record = await wait_for_call(closed, lambda c: c["ended_at"] is not None)
    assert (record["outcome"], record["agent"], record["queue"]) == (
        "answered",
        "alice",
        "helpdesk",
    )
    token = await closed.login("sue", "sue-demo")
    status, history = await closed.request("GET", f"/api/v1/calls/{record['id']}/events", token)
    assert status == 200, history
    [enqueued] = [e for e in history["events"] if e["type"] == "CallEnqueued"]
    assert enqueued["data"]["priority"] == 50  # the urgent branch's priority
    assert enqueued["data"]["skills"] == {"general": 1}
    assert await ivr_outcome(closed, "queued") == 1


async def test_closed_desk_hangs_up_after_the_message(closed: Server, tmp_path: Path) -> None:
    # No key: the closed message, the menu's timeout, goodbye, and the hotline's BYE.
    phone = await Sipp(
        "caller_until_bye.xml",
        [*caller_args(closed), "-m", "1", "-timeout", "60s", "-timeout_error"],
        tmp_path,
    ).start()
    code, out = await phone.wait(60)
    assert code == 0, f"{out}\n{phone.traces()}"
    record = await wait_for_call(closed, lambda c: c["ended_at"] is not None)
    assert (record["outcome"], record["queue"], record["agent"]) == ("ivr_hangup", None, None)
    assert await ivr_outcome(closed, "flow_hangup") == 1
    assert await ivr_outcome(closed, "caller_hangup") == 0


async def test_caller_hanging_up_in_the_ivr(closed: Server, tmp_path: Path) -> None:
    # Hangs up during the closed message, before any key.
    phone = await caller("caller.xml", closed, tmp_path, talk_ms=4000).start()
    code, out = await phone.wait(60)
    assert code == 0, f"{out}\n{phone.traces()}"
    record = await wait_for_call(closed, lambda c: c["ended_at"] is not None)
    assert (record["outcome"], record["queue"]) == ("ivr_hangup", None)
    assert await ivr_outcome(closed, "caller_hangup") == 1
    assert await ivr_outcome(closed, "flow_hangup") == 0


async def test_menu_timeout_waits_while_the_caller_holds(tmp_path: Path) -> None:
    async for server in started(tmp_path, menu_then_queue(tmp_path)):
        # Held from 2 s to 8 s: the 4 s menu timeout would end the call at about 5 s.
        phone = await Sipp(
            "caller_holds_in_ivr.xml",
            [*caller_args(server), "-m", "1", "-d", "3000", "-timeout", "60s", "-timeout_error"],
            tmp_path,
        ).start()
        code, out = await phone.wait(60)
        assert code == 0, f"{out}\n{phone.traces()}"
        record = await wait_for_call(server, lambda c: c["ended_at"] is not None)
        # Key 1 after the hold took the caller to the queue, where it hung up.
        assert (record["outcome"], record["queue"]) == ("abandoned", "helpdesk")
        assert await ivr_outcome(server, "queued") == 1
        assert await ivr_outcome(server, "flow_hangup") == 0
