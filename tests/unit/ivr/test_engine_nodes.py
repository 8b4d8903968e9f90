"""Engine node kinds on small flow files: collect, attribute branches, transfer, hangup."""

from __future__ import annotations

from pathlib import Path

import pytest

from callcenter.clock import ManualClock
from callcenter.ivr.engine import IvrSession
from callcenter.ivr.flow import (
    CallerProfile,
    CancelTimer,
    Enqueue,
    Hangup,
    Play,
    StartTimer,
    StopPlayback,
    Transfer,
)
from callcenter.ivr.flowfile import load_flows
from tests.unit.ivr.conftest import WriteFlow

UNKNOWN = CallerProfile(known=False, vip=False)

TICKET = """
ask:
  kind: collect
  prompts: [enter_ticket]
  into: ticket
  min_digits: 4
  max_digits: 6
  first_digit_timeout: 8
  inter_digit_timeout: 3
  tries: 2
  retry: [bad_ticket]
  next: check
  default: bye
check:
  kind: branch
  if: {attribute: ticket, matches: "9[0-9]+"}
  then: urgent
  else: normal
urgent:
  kind: set
  priority: 7
  attributes: {ticket_ref: "T-{ticket}"}
  next: queue
normal:
  kind: play
  prompts: [{say_number: "{ticket}"}]
  next: queue
queue: {kind: queue}
bye: {kind: message, prompts: [bye]}
"""


@pytest.fixture
def ticket_session(write_flow: WriteFlow) -> IvrSession:
    flow = load_flows(write_flow(TICKET)).get()
    return IvrSession(flow, UNKNOWN, ManualClock())


def started(s: IvrSession) -> StartTimer:
    assert s.start() == [Play(prompts=("enter_ticket",))]
    (timer,) = s.prompt_finished("enter_ticket")
    assert isinstance(timer, StartTimer)
    assert timer.seconds == 8.0  # the first-digit timeout
    return timer


def test_collect_with_terminator(ticket_session: IvrSession) -> None:
    s = ticket_session
    first = started(s)
    actions = s.digit("1")
    assert actions[0] == CancelTimer(first.timer_id)
    assert isinstance(actions[1], StartTimer) and actions[1].seconds == 3.0  # inter-digit
    for key in "234":
        s.digit(key)
    actions = s.digit("#")
    assert isinstance(actions[0], CancelTimer)
    assert actions[1] == Play(
        prompts=(
            "digits/1",
            "digits/thousand",
            "digits/2",
            "digits/hundred",
            "digits/30",
            "digits/4",
        )
    )
    assert s.attributes == {"ticket": "1234"}


def test_collect_ends_at_max_digits_without_terminator(ticket_session: IvrSession) -> None:
    s = ticket_session
    started(s)
    for key in "98765":
        s.digit(key)
    actions = s.digit("4")
    assert actions[-1] == Enqueue("q", 7, {}, {"ticket": "987654", "ticket_ref": "T-987654"})


def test_inter_digit_timeout_accepts_enough_digits(ticket_session: IvrSession) -> None:
    s = ticket_session
    started(s)
    for key in "9001":
        actions = s.digit(key)
    (timer,) = (a for a in actions if isinstance(a, StartTimer))
    assert s.timer_fired(timer.timer_id)[-1] == Enqueue(
        "q", 7, {}, {"ticket": "9001", "ticket_ref": "T-9001"}
    )


def test_inter_digit_timeout_with_too_few_digits_retries(ticket_session: IvrSession) -> None:
    s = ticket_session
    started(s)
    s.digit("1")
    (timer,) = (a for a in s.digit("2") if isinstance(a, StartTimer))
    assert s.timer_fired(timer.timer_id) == [Play(prompts=("bad_ticket", "enter_ticket"))]
    s.prompt_finished("bad_ticket")
    (first,) = s.prompt_finished("enter_ticket")
    assert isinstance(first, StartTimer) and first.seconds == 8.0  # a fresh entry
    for key in "5555#":
        actions = s.digit(key)
    assert s.attributes["ticket"] == "5555"
    assert isinstance(actions[-1], Play)


def test_terminator_too_early_and_first_digit_timeout_use_the_tries(
    ticket_session: IvrSession,
) -> None:
    s = ticket_session
    started(s)
    for key in "12#":
        s.digit(key)
    s.prompt_finished("bad_ticket")
    (timer,) = s.prompt_finished("enter_ticket")
    assert isinstance(timer, StartTimer)
    assert s.timer_fired(timer.timer_id) == [Play(prompts=("bye",))]  # 2 tries: default
    assert s.prompt_finished("bye") == [Hangup("message")]
    assert "ticket" not in s.attributes


def test_collect_barge_in_keeps_the_first_digit(ticket_session: IvrSession) -> None:
    s = ticket_session
    s.start()
    actions = s.digit("4")
    assert actions[0] == StopPlayback()
    for key in "321#":
        s.digit(key)
    assert s.attributes["ticket"] == "4321"


def test_transfer_plays_then_transfers(write_flow: WriteFlow) -> None:
    path = write_flow(
        """
        out: {kind: transfer, prompts: [hello], target: "sip:oncall@example.com"}
        """
    )
    s = IvrSession(load_flows(path).get(), UNKNOWN, ManualClock())
    assert s.start() == [Play(prompts=("hello",))]
    assert s.digit("1") == []  # no barge-in on a transfer announcement
    assert s.prompt_finished("hello") == [Transfer("sip:oncall@example.com")]


def test_caller_branches_and_hangup(write_flow: WriteFlow) -> None:
    path = write_flow(
        """
        who: {kind: branch, if: known, then: vip, else: stranger}
        vip: {kind: branch, if: vip, then: to_desk, else: colleague}
        to_desk: {kind: transfer, target: "+861012345678"}
        colleague: {kind: queue, priority: 3}
        stranger: {kind: hangup, reason: unknown caller}
        """
    )
    flow = load_flows(path).get()

    def result(caller: CallerProfile) -> object:
        s = IvrSession(flow, caller, ManualClock())
        return s.start()

    assert result(UNKNOWN) == [Hangup("unknown caller")]
    assert result(CallerProfile(True, False)) == [Enqueue("q", 3)]
    assert result(CallerProfile(True, True)) == [Transfer("+861012345678")]


def test_attribute_equals_branch_on_a_menu_value(write_flow: WriteFlow) -> None:
    path = write_flow(
        """
        ask:
          kind: collect
          prompts: [menu]
          into: code
          max_digits: 1
          terminator: null
          next: test
          default: test
        test:
          kind: branch
          if: {attribute: code, equals: "1"}
          then: one
          else: other
        one: {kind: queue, queue: first}
        other: {kind: queue}
        """
    )
    flow = load_flows(path).get()
    for key, queue in (("1", "first"), ("2", "q")):
        s = IvrSession(flow, UNKNOWN, ManualClock())
        s.start()
        actions = s.digit(key)
        assert isinstance(actions[-1], Enqueue) and actions[-1].queue == queue


def test_a_loop_without_input_hangs_up(write_flow: WriteFlow) -> None:
    path = write_flow(
        """
        a: {kind: set, priority: 1, next: b}
        b: {kind: branch, if: known, then: a, else: a}
        """
    )
    s = IvrSession(load_flows(path).get(), UNKNOWN, ManualClock())
    assert s.start() == [Hangup("ivr loop")]


def test_an_empty_number_plays_nothing(write_flow: WriteFlow, tmp_path: Path) -> None:
    path = write_flow(
        """
        say: {kind: play, prompts: [{say_digits: "{open_incident}"}], next: end}
        end: {kind: hangup}
        """
    )
    s = IvrSession(load_flows(path).get(), UNKNOWN, ManualClock())
    assert s.start() == [Hangup("ivr")]


def test_play_keeps_the_old_single_prompt_form() -> None:
    assert Play("greeting") == Play(prompts=("greeting",))
    assert Play("greeting").prompts == ("greeting",)
    assert Play(prompts=("a", "b")).prompt == "a"
    assert Enqueue("helpdesk", 0).skills == {}
    with pytest.raises(ValueError):
        Play()
