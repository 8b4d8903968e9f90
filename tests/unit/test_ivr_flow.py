from __future__ import annotations

import pytest

from callcenter.ivr.flow import CallerProfile, Enqueue, GreetingThenQueue, Play

UNKNOWN = CallerProfile(known=False, vip=False)


def test_greeting_then_queue() -> None:
    flow = GreetingThenQueue("helpdesk")
    assert flow.start() == [Play("greeting")]
    assert not flow.finished
    assert flow.prompt_finished("greeting", UNKNOWN) == [Enqueue("helpdesk", 0)]
    assert flow.finished


def test_vip_is_queued_with_priority() -> None:
    flow = GreetingThenQueue("helpdesk")
    flow.start()
    actions = flow.prompt_finished("greeting", CallerProfile(known=True, vip=True))
    assert actions == [Enqueue("helpdesk", GreetingThenQueue.VIP_PRIORITY)]


def test_other_prompt_or_repeat_does_nothing() -> None:
    flow = GreetingThenQueue("helpdesk", greeting="welcome")
    assert flow.start() == [Play("welcome")]
    assert flow.prompt_finished("greeting", UNKNOWN) == []
    assert flow.prompt_finished("welcome", UNKNOWN) == [Enqueue("helpdesk", 0)]
    assert flow.prompt_finished("welcome", UNKNOWN) == []


def test_start_twice_is_an_error() -> None:
    flow = GreetingThenQueue("helpdesk")
    flow.start()
    with pytest.raises(RuntimeError):
        flow.start()
