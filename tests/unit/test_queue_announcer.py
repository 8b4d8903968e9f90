"""Queue announcements in the call flow, on a fake telephony and a real in-process ACD:
the music stops for the announcement and comes back after it, an offer cuts it short,
the callback key still works during it, and a caller who left hears no more."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from callcenter.acd.acd import Acd
from callcenter.acd.model import AgentState, QueueSettings, Strategy
from callcenter.acd_store.local import LocalAcdStore
from callcenter.calls.announcer import ANNOUNCEMENT_TAG
from callcenter.calls.events import QueueAnnouncementPlayed
from callcenter.calls.recorder import CallRecorder
from callcenter.calls.service import CALLBACK_PROMPT, CallPolicy, CallService
from callcenter.clock import ManualClock
from callcenter.events import EventBus
from callcenter.ivr.announcements import QueueAnnouncements
from callcenter.ivr.flowfile import load_flows
from callcenter.ivr.prompts import PromptLibrary
from callcenter.softphone_bridge import messages as m
from tests.unit.test_call_flow_offers import CALLEE_URI, ROOT, Phones, Records, Rig

#: Short enough for a unit test; the timers are the event loop's.
INTERVAL = 0.02


async def until(check: Callable[[], Any], what: str) -> Any:
    """The first truthy result of `check`, polled while the loop runs timers."""
    for _ in range(400):
        value = check()
        if value:
            return value
        await asyncio.sleep(0.005)
    raise AssertionError(f"never happened: {what}")


def announcements(phones: Phones) -> list[m.PlayPrompt]:
    return [c for c in phones.sent if isinstance(c, m.PlayPrompt) and c.tag == ANNOUNCEMENT_TAG]


def spoken(prompt: m.PlayPrompt) -> list[str]:
    """Prompt names of a PlayPrompt, as paths below the language's directory."""
    base = ROOT / "var" / "prompts" / "en"
    return [str(p.relative_to(base).with_suffix("")) for p in prompt.paths]


@pytest.fixture
async def rig() -> AsyncIterator[tuple[Rig, list[QueueAnnouncementPlayed]]]:
    clock = ManualClock(1_000_000.0)
    bus = EventBus()
    settings = QueueSettings("helpdesk", strategy=Strategy.LONGEST_IDLE, default_aht_seconds=240)
    acd = Acd([settings], clock, bus.publish)
    phones, records, recorder = Phones(), Records(), CallRecorder()
    service = CallService(
        acd_store=LocalAcdStore(acd),
        bus=bus,
        telephony=phones,
        store=records,  # type: ignore[arg-type]
        recorder=recorder,
        prompts=PromptLibrary(ROOT / "var" / "prompts"),
        flows=load_flows(ROOT / "tests" / "e2e" / "ivr-straight.yaml"),
        policy=CallPolicy(
            default_region="CN",
            attach_window_hours=8,
            default_queue="helpdesk",
            callback_keys={"helpdesk": "*"},
            announcements={"helpdesk": QueueAnnouncements(INTERVAL, True, True, "*")},
            outbound_uri_template=CALLEE_URI,
        ),
        clock=clock,
        agent_endpoints={"alice": "sip:alice@127.0.0.1:7001"},
    )
    acd.add_agent("alice", ["helpdesk"])
    heard: list[QueueAnnouncementPlayed] = []
    bus.subscribe(QueueAnnouncementPlayed, heard.append)
    task = asyncio.get_running_loop().create_task(recorder.run())
    yield Rig(service, acd, bus, phones, records, recorder, clock), heard
    await service.close()
    task.cancel()


async def test_music_stops_for_the_announcement_and_resumes_after_it(
    rig: tuple[Rig, list[QueueAnnouncementPlayed]],
) -> None:
    desk, heard = rig
    # alice talks to an earlier caller: staffed and busy, so the ACD has an estimate.
    desk.acd.set_agent_state("alice", AgentState.AVAILABLE)
    await desk.enqueue("talker")
    [dial] = [c for c in desk.phones.take() if isinstance(c, m.Dial)]
    desk.bus.publish(m.LegAnswered(dial.leg_id))
    await desk.enqueue("first")
    await desk.enqueue("second")
    assert desk.phones.take()[-1] == m.PlayMusic("second")

    def of(leg: str) -> list[m.PlayPrompt]:
        return [a for a in announcements(desk.phones) if a.leg_id == leg]

    [first] = await until(lambda: of("first"), "the first caller's announcement")
    [second] = await until(lambda: of("second"), "the second caller's announcement")
    # Next in line, about four minutes (what is left of alice's call, one AHT), the key.
    assert spoken(first) == [
        "queue-youarenext",
        "queue-holdtime",
        "digits/4",
        "queue-minutes",
        "queue-callback-offer",
        "digits/star",
    ]
    # Caller number two, one AHT more.
    assert spoken(second) == [
        "queue-thereare",
        "digits/2",
        "queue-callswaiting",
        "queue-holdtime",
        "digits/8",
        "queue-minutes",
        "queue-callback-offer",
        "digits/star",
    ]
    assert of("talker") == []  # talking to alice
    desk.phones.take()
    desk.bus.publish(m.PromptFinished("second", ANNOUNCEMENT_TAG))
    assert desk.phones.take() == [m.PlayMusic("second")]
    assert heard[-1].call_id == "second" and heard[-1].completed
    assert heard[-1].queue == "helpdesk" and heard[-1].prompts[0] == "queue-thereare"
    # And again an interval later.
    await until(lambda: announcements(desk.phones), "the next announcement")


async def test_next_in_line_is_told_so(rig: tuple[Rig, list[QueueAnnouncementPlayed]]) -> None:
    desk, _ = rig
    await desk.enqueue()  # nobody staffed: no estimate is said
    [announcement] = await until(lambda: announcements(desk.phones), "an announcement")
    assert spoken(announcement) == ["queue-youarenext", "queue-callback-offer", "digits/star"]


async def test_an_offer_cuts_the_announcement_short(
    rig: tuple[Rig, list[QueueAnnouncementPlayed]],
) -> None:
    desk, heard = rig
    await desk.enqueue()
    await until(lambda: announcements(desk.phones), "an announcement")
    desk.phones.take()
    desk.acd.set_agent_state("alice", AgentState.AVAILABLE)
    sent = desk.phones.take()
    assert sent[0] == m.PlayMusic("caller")  # the music, while alice's phone rings
    assert isinstance(sent[1], m.Dial) and sent[1].uri == "sip:alice@127.0.0.1:7001"
    assert [e.completed for e in heard] == [False]
    # The end of the cut announcement, had it come, changes nothing.
    desk.bus.publish(m.PromptFinished("caller", ANNOUNCEMENT_TAG))
    assert desk.phones.take() == []


async def test_the_callback_key_works_during_the_announcement(
    rig: tuple[Rig, list[QueueAnnouncementPlayed]],
) -> None:
    desk, heard = rig
    await desk.enqueue()
    await until(lambda: announcements(desk.phones), "an announcement")
    desk.phones.take()
    desk.bus.publish(m.DtmfReceived("caller", "*", "rfc4733"))
    await until(lambda: desk.phones.sent, "the confirmation")
    [confirmation] = desk.phones.take()
    assert isinstance(confirmation, m.PlayPrompt) and confirmation.tag == CALLBACK_PROMPT
    assert desk.acd.call("caller").callback is not None
    assert [e.completed for e in heard] == [False]
    # No more announcements to a caller whose call is a callback now.
    await asyncio.sleep(INTERVAL * 5)
    assert announcements(desk.phones) == []


async def test_a_caller_who_hung_up_hears_no_more(
    rig: tuple[Rig, list[QueueAnnouncementPlayed]],
) -> None:
    desk, _ = rig
    await desk.enqueue()
    desk.bus.publish(m.LegEnded("caller", 200, "BYE", True))
    desk.phones.take()
    await asyncio.sleep(INTERVAL * 5)
    assert desk.phones.sent == []


async def test_no_announcements_while_the_caller_holds(
    rig: tuple[Rig, list[QueueAnnouncementPlayed]],
) -> None:
    desk, heard = rig
    await desk.enqueue()
    await until(lambda: announcements(desk.phones), "an announcement")
    desk.phones.take()
    desk.bus.publish(m.LegHeld("caller", "sendonly"))
    assert desk.phones.take() == [m.PlayMusic("caller")]  # what it hears once back
    assert [e.completed for e in heard] == [False]
    await asyncio.sleep(INTERVAL * 5)
    assert desk.phones.sent == []
    desk.bus.publish(m.LegResumed("caller"))
    await until(lambda: announcements(desk.phones), "an announcement after the hold")
