"""The readiness state: verdicts, what fails, since when, one log line per change."""

from __future__ import annotations

import logging

import pytest

from callcenter.clock import ManualClock
from callcenter.health import DATABASE, REDIS, DependencyDown, Health


def test_a_dependency_fails_from_the_first_failing_verdict(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = ManualClock(100.0)
    health = Health(clock)
    assert health.report(DATABASE, True) is False  # the first verdict is no change
    assert health.failing(DATABASE) is None and health.failing(REDIS) is None
    clock.advance(5)
    with caplog.at_level(logging.WARNING):
        assert health.report(DATABASE, False, "ConnectionRefusedError") is True
        clock.advance(1)
        assert health.report(DATABASE, False, "no answer within 2 s") is False
    failing = health.failing(DATABASE)
    assert failing is not None
    assert (failing.since, failing.detail) == (105.0, "no answer within 2 s")
    assert [c.name for c in health.failures] == [DATABASE]
    assert caplog.messages == ["database fails: ConnectionRefusedError"]  # once, not per probe


def test_it_answers_again() -> None:
    health = Health(ManualClock(0.0))
    health.report(REDIS, True)
    health.report(REDIS, False, "down")
    assert health.report(REDIS, True) is True
    assert health.failures == [] and [c.name for c in health.checks] == [REDIS]


def test_dependency_down_says_which_and_why() -> None:
    assert str(DependencyDown(REDIS, "no answer")) == "redis is unavailable: no answer"
    assert str(DependencyDown(DATABASE, "")) == "database is unavailable"
