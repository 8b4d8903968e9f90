"""The demo flows of config/ivr.yaml, event by event and walked for every choice."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

import pytest

from callcenter.clock import ManualClock
from callcenter.ivr.cli import walk
from callcenter.ivr.engine import IvrSession
from callcenter.ivr.flow import (
    CallerProfile,
    CancelTimer,
    Enqueue,
    Hangup,
    Play,
    StartTimer,
    StopPlayback,
)
from callcenter.ivr.flowfile import FlowSet, load_flows
from tests.unit.ivr.conftest import PRODUCTION_FILE

UNKNOWN = CallerProfile(known=False, vip=False)
MONDAY_10_SHANGHAI = dt.datetime(2026, 11, 30, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
SATURDAY_10_SHANGHAI = dt.datetime(2026, 12, 5, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def session(demo: FlowSet, caller: CallerProfile = UNKNOWN, flow: str | None = None) -> IvrSession:
    return IvrSession(demo.get(flow), caller, ManualClock(MONDAY_10_SHANGHAI.timestamp()))


def to_main_menu(s: IvrSession) -> StartTimer:
    """Start and hear the greeting and the menu; returns the menu's timer."""
    assert s.start() == [Play(prompts=("ivr_welcome",))]
    assert s.prompt_finished("ivr_welcome") == [Play(prompts=("main_menu",))]
    (timer,) = s.prompt_finished("main_menu")
    assert isinstance(timer, StartTimer)
    assert timer.seconds == 5
    return timer


def hear_connecting(s: IvrSession, actions: Sequence[object]) -> Enqueue:
    assert actions[-1] == Play(prompts=("connecting",))
    (enqueue,) = s.prompt_finished("connecting")
    assert isinstance(enqueue, Enqueue)
    assert s.finished and s.result == enqueue
    return enqueue


@pytest.mark.parametrize(
    ("key", "skill"),
    [("1", "accounts"), ("2", "hardware"), ("3", "software"), ("0", "general")],
)
def test_each_menu_choice_sets_its_skill_and_queues(demo: FlowSet, key: str, skill: str) -> None:
    s = session(demo)
    timer = to_main_menu(s)
    actions = s.digit(key)
    assert actions[0] == CancelTimer(timer.timer_id)
    enqueue = hear_connecting(s, actions)
    assert enqueue == Enqueue("helpdesk", 0, {skill: 1}, {"topic": skill})


@pytest.mark.parametrize(
    ("key", "skill"),
    [("1", "accounts"), ("2", "hardware"), ("3", "software"), ("0", "general")],
)
@pytest.mark.parametrize("flow", ["helpdesk", "helpdesk_zh"])
def test_walk_every_choice_in_both_languages(
    demo: FlowSet, flow: str, key: str, skill: str
) -> None:
    done, unused = walk(demo.get(flow), UNKNOWN, MONDAY_10_SHANGHAI.timestamp(), key)
    assert done.result == Enqueue("helpdesk", 0, {skill: 1}, {"topic": skill})
    assert unused == ""
    visited = [node for node, _ in done.trace]
    assert visited[0] == "welcome" and visited[-1] == "to_queue"
    assert skill in visited


def test_the_zh_flow_plays_in_mandarin(demo: FlowSet) -> None:
    s = session(demo, flow="helpdesk_zh")
    assert s.start() == [Play(prompts=("ivr_welcome",), language="zh")]
    assert demo.for_language("zh").name == "helpdesk_zh"
    assert demo.for_language("fr").name == "helpdesk"


def test_invalid_key_retries_then_the_default_queues(demo: FlowSet) -> None:
    s = session(demo)
    to_main_menu(s)
    actions = s.digit("7")
    assert actions[-1] == Play(prompts=("invalid_option", "main_menu"))
    assert s.prompt_finished("invalid_option") == []
    (timer,) = s.prompt_finished("main_menu")
    assert isinstance(timer, StartTimer)
    s.digit("8")  # second try wasted
    s.prompt_finished("invalid_option")
    s.prompt_finished("main_menu")
    actions = s.digit("9")  # third: the default branch
    enqueue = hear_connecting(s, actions)
    assert enqueue.skills == {"general": 1}
    assert any("3 tries used -> general" in note for _, note in s.trace)


def test_a_valid_key_on_the_second_try_counts(demo: FlowSet) -> None:
    s = session(demo)
    to_main_menu(s)
    s.digit("5")
    s.prompt_finished("invalid_option")
    s.prompt_finished("main_menu")
    assert hear_connecting(s, s.digit("3")).skills == {"software": 1}


def test_timeouts_replay_with_the_no_input_prompt_then_default(demo: FlowSet) -> None:
    s = session(demo)
    timer = to_main_menu(s)
    assert s.timer_fired(timer.timer_id) == [Play(prompts=("no_input", "main_menu"))]
    s.prompt_finished("no_input")
    (second,) = s.prompt_finished("main_menu")
    assert isinstance(second, StartTimer)
    assert second.timer_id != timer.timer_id
    assert s.timer_fired(timer.timer_id) == []  # a stale timer does nothing
    s.timer_fired(second.timer_id)
    s.prompt_finished("no_input")
    (third,) = s.prompt_finished("main_menu")
    assert isinstance(third, StartTimer)
    enqueue = hear_connecting(s, s.timer_fired(third.timer_id))
    assert enqueue.skills == {"general": 1}


def test_barge_in_stops_the_menu_prompt(demo: FlowSet) -> None:
    s = session(demo)
    s.start()
    assert s.prompt_finished("ivr_welcome") == [Play(prompts=("main_menu",))]
    actions = s.digit("2")
    assert actions[0] == StopPlayback()
    assert hear_connecting(s, actions).skills == {"hardware": 1}
    assert s.prompt_finished("main_menu") == []  # the stopped prompt, reported late


def test_invalid_barge_in_stops_and_replays(demo: FlowSet) -> None:
    s = session(demo)
    s.start()
    s.prompt_finished("ivr_welcome")
    assert s.digit("*") == [StopPlayback(), Play(prompts=("invalid_option", "main_menu"))]


def test_key_during_the_greeting_is_kept_for_the_menu(demo: FlowSet) -> None:
    s = session(demo)
    s.start()
    actions = s.digit("1")
    assert actions[0] == StopPlayback()
    assert hear_connecting(s, actions).skills == {"accounts": 1}
    assert not any(isinstance(a, Play) and "main_menu" in a.prompts for a in actions)


def test_keys_during_the_connecting_message_are_ignored(demo: FlowSet) -> None:
    s = session(demo)
    to_main_menu(s)
    s.digit("1")
    assert s.digit("2") == []
    assert s.prompt_finished("connecting")[0] == Enqueue(
        "helpdesk", 0, {"accounts": 1}, {"topic": "accounts"}
    )
    assert s.digit("3") == [] and s.timer_fired("x") == []


def test_vip_is_queued_with_priority(demo: FlowSet) -> None:
    s = session(demo, CallerProfile(known=True, vip=True))
    to_main_menu(s)
    assert hear_connecting(s, s.digit("2")).priority == 10


def test_known_caller_with_open_incident_hears_it_and_presses_1(demo: FlowSet) -> None:
    s = session(demo, CallerProfile(known=True, vip=False, open_incident="40317"))
    s.start()
    digits = tuple(f"digits/{d}" for d in "40317")
    assert s.prompt_finished("ivr_welcome") == [
        Play(prompts=("incident_intro", *digits, "incident_options"))
    ]
    for prompt in ("incident_intro", *digits):
        assert s.prompt_finished(prompt) == []
    (timer,) = s.prompt_finished("incident_options")
    assert isinstance(timer, StartTimer)
    enqueue = hear_connecting(s, s.digit("1"))
    assert enqueue == Enqueue("helpdesk", 0, {}, {"incident": "40317"})


def test_known_caller_with_open_incident_may_choose_the_menu(demo: FlowSet) -> None:
    caller = CallerProfile(known=True, vip=False, open_incident="40317")
    done, _ = walk(demo.get(), caller, MONDAY_10_SHANGHAI.timestamp(), "23")
    assert done.result == Enqueue("helpdesk", 0, {"software": 1}, {"topic": "software"})
    done, _ = walk(demo.get(), caller, MONDAY_10_SHANGHAI.timestamp(), "")  # silence
    assert done.result is not None and "incident" not in done.result.attributes  # type: ignore[union-attr]


def test_unknown_caller_never_hears_an_incident(demo: FlowSet) -> None:
    caller = CallerProfile(known=False, vip=False, open_incident="40317")
    done, _ = walk(demo.get(), caller, MONDAY_10_SHANGHAI.timestamp(), "1")
    assert "incident_offer" not in {node for node, _ in done.trace}
    assert done.result == Enqueue("helpdesk", 0, {"accounts": 1}, {"topic": "accounts"})


@pytest.fixture(scope="module")
def production() -> FlowSet:
    return load_flows(PRODUCTION_FILE)


def test_production_closed_message_then_goodbye(production: FlowSet) -> None:
    s = IvrSession(production.get(), UNKNOWN, ManualClock(SATURDAY_10_SHANGHAI.timestamp()))
    s.start()
    assert s.prompt_finished("ivr_welcome") == [Play(prompts=("closed", "closed_urgent"))]
    s.prompt_finished("closed")
    (timer,) = s.prompt_finished("closed_urgent")
    assert isinstance(timer, StartTimer)
    assert s.timer_fired(timer.timer_id) == [Play(prompts=("goodbye",))]
    assert s.prompt_finished("goodbye") == [Hangup("message")]
    assert s.finished


def test_production_closed_press_9_queues_with_high_priority(production: FlowSet) -> None:
    done, _ = walk(production.get(), UNKNOWN, SATURDAY_10_SHANGHAI.timestamp(), "9")
    assert done.result == Enqueue("helpdesk", 50, {"general": 1}, {"urgent": "yes"})


def test_production_open_on_a_working_day(production: FlowSet) -> None:
    done, _ = walk(production.get(), UNKNOWN, MONDAY_10_SHANGHAI.timestamp(), "2")
    assert done.result == Enqueue("helpdesk", 0, {"hardware": 1}, {"topic": "hardware"})


def test_demo_is_open_on_a_saturday_night(demo: FlowSet) -> None:
    done, _ = walk(demo.get(), UNKNOWN, SATURDAY_10_SHANGHAI.timestamp() + 12 * 3600, "2")
    assert isinstance(done.result, Enqueue)


def test_start_twice_is_an_error(demo: FlowSet) -> None:
    s = session(demo)
    s.start()
    with pytest.raises(RuntimeError):
        s.start()
