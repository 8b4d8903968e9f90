"""Early media (sip.early_media): the greeting plays before the answer, which the call
flow sends when the IVR first needs the caller; driven on a fake telephony."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from callcenter.acd.acd import Acd
from callcenter.acd.model import QueueSettings
from callcenter.acd_store.local import LocalAcdStore
from callcenter.calls.recorder import CallRecorder
from callcenter.calls.service import CallPolicy, CallService
from callcenter.clock import ManualClock
from callcenter.events import EventBus
from callcenter.ivr.flowfile import load_flows
from callcenter.ivr.prompts import PromptLibrary
from callcenter.softphone_bridge import messages as m
from tests.unit.test_call_flow_offers import CALLER, ROOT, Phones, Records

FLOWS = """
prompts: {catalogue}
default: {start}
flows:
  straight:
    language: en
    queue: helpdesk
    start: hello
    nodes:
      hello: {{kind: play, prompts: [greeting], next: desk}}
      desk: {{kind: queue}}
  menu:
    language: en
    queue: helpdesk
    start: hello
    nodes:
      hello: {{kind: play, prompts: [greeting], next: choose}}
      choose:
        kind: menu
        prompts: [main_menu]
        choices: {{"1": desk}}
        default: desk
      desk: {{kind: queue}}
  closed:
    language: en
    queue: helpdesk
    start: hello
    nodes:
      hello: {{kind: message, prompts: [closed]}}
"""


class Rig:
    def __init__(self, tmp_path: Path, flow: str, early_media: bool) -> None:
        path = tmp_path / "flows.yaml"
        path.write_text(FLOWS.format(catalogue=ROOT / "config" / "prompts.yaml", start=flow))
        self.bus = EventBus()
        clock = ManualClock(1_000_000.0)
        self.acd = Acd([QueueSettings("helpdesk")], clock, self.bus.publish)
        self.phones, self.records, self.recorder = Phones(), Records(), CallRecorder()
        self.service = CallService(
            acd_store=LocalAcdStore(self.acd),
            bus=self.bus,
            telephony=self.phones,
            store=self.records,  # type: ignore[arg-type]
            recorder=self.recorder,
            prompts=PromptLibrary(ROOT / "var" / "prompts"),
            flows=load_flows(path),
            policy=CallPolicy(
                default_region="CN",
                attach_window_hours=8,
                default_queue="helpdesk",
                early_media=early_media,
            ),
            clock=clock,
            agent_endpoints={},
        )

    async def arrive(self) -> list[m.Command]:
        self.bus.publish(m.InboundCall("caller", "sip-caller", CALLER, None, "127.0.0.1"))
        for _ in range(5):  # the caller lookup runs as a task
            await asyncio.sleep(0)
        return self.phones.take()

    def finish(self, prompt: str) -> list[m.Command]:
        self.bus.publish(m.PromptFinished("caller", prompt))
        return self.phones.take()


@pytest.fixture
async def rigs(tmp_path: Path) -> AsyncIterator[Any]:
    made: list[tuple[Rig, asyncio.Task[None]]] = []

    def make(flow: str, early_media: bool = True) -> Rig:
        rig = Rig(tmp_path, flow, early_media)
        made.append((rig, asyncio.get_running_loop().create_task(rig.recorder.run())))
        return rig

    yield make
    for rig, task in made:
        await rig.service.close()
        task.cancel()


def kinds(sent: list[m.Command]) -> list[str]:
    return [type(c).__name__ for c in sent]


async def test_without_early_media_the_call_is_answered_at_once(rigs: Any) -> None:
    rig: Rig = rigs("straight", early_media=False)
    assert kinds(await rig.arrive()) == ["Answer", "PlayPrompt"]


async def test_greeting_plays_as_early_media_and_the_queue_answers(rigs: Any) -> None:
    rig: Rig = rigs("straight")
    assert kinds(await rig.arrive()) == ["Progress", "PlayPrompt"]
    assert kinds(rig.finish("greeting")) == ["Answer", "PlayMusic"]
    assert rig.acd.has_call("caller")


async def test_a_menu_is_answered_before_its_prompts(rigs: Any) -> None:
    rig: Rig = rigs("menu")
    assert kinds(await rig.arrive()) == ["Progress", "PlayPrompt"]
    sent = rig.finish("greeting")
    assert kinds(sent) == ["Answer", "PlayPrompt"]
    assert isinstance(sent[1], m.PlayPrompt) and sent[1].tag == "main_menu"
    assert rig.finish("main_menu") == []  # answered once only


async def test_a_message_then_hangup_is_never_answered(rigs: Any) -> None:
    rig: Rig = rigs("closed")
    assert kinds(await rig.arrive()) == ["Progress", "PlayPrompt"]
    assert kinds(rig.finish("closed")) == ["Hangup"]


async def test_caller_leaving_during_early_media_is_an_ivr_hangup(rigs: Any) -> None:
    rig: Rig = rigs("straight")
    await rig.arrive()
    rig.bus.publish(m.LegEnded("caller", 487, "Request Terminated", False))
    assert await rig.recorder.drain(2)
    [*_, (call_id, last)] = rig.records.writes
    assert call_id == "caller" and last["outcome"] == "ivr_hangup"
    assert rig.finish("greeting") == []  # the call is gone: no answer
