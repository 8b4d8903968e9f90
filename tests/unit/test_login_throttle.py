"""Login throttling on a manual clock."""

from __future__ import annotations

from callcenter.auth.throttle import LoginThrottle, ThrottlePolicy
from callcenter.clock import ManualClock


def test_five_wrong_passwords_lock_the_username_for_the_lockout() -> None:
    clock = ManualClock()
    throttle = LoginThrottle(clock)
    for _ in range(4):
        assert throttle.failed("alice", "10.0.0.1") == []
        assert throttle.wait("alice", "10.0.0.1") == 0
    assert throttle.failed("alice", "10.0.0.1") == ["user"]
    assert throttle.wait("alice", "10.0.0.2") == 15 * 60  # from anywhere
    assert throttle.wait("bob", "10.0.0.1") == 0  # the source is not locked yet
    clock.advance(15 * 60)
    assert throttle.wait("alice", "10.0.0.1") == 0


def test_failures_outside_the_window_are_forgotten() -> None:
    clock = ManualClock()
    throttle = LoginThrottle(clock)
    for _ in range(4):
        throttle.failed("alice", "10.0.0.1")
    clock.advance(15 * 60 + 1)
    assert throttle.failed("alice", "10.0.0.1") == []


def test_a_success_forgets_the_users_failures() -> None:
    clock = ManualClock()
    throttle = LoginThrottle(clock)
    for _ in range(4):
        throttle.failed("alice", "10.0.0.1")
    throttle.succeeded("alice")
    assert throttle.failed("alice", "10.0.0.1") == []


def test_one_source_guessing_many_usernames_is_locked() -> None:
    throttle = LoginThrottle(ManualClock(), ThrottlePolicy(per_source=20))
    locked = [throttle.failed(f"user{n}", "203.0.113.9") for n in range(20)]
    assert locked[-1] == ["source"] and all(x == [] for x in locked[:-1])
    assert throttle.wait("someone-else", "203.0.113.9") > 0
    assert throttle.wait("someone-else", "203.0.113.10") == 0


def test_memory_stays_bounded() -> None:
    throttle = LoginThrottle(ManualClock(), ThrottlePolicy(max_tracked=100, per_source=10**9))
    for n in range(1000):
        throttle.failed(f"user{n}", f"src{n}")
    assert len(throttle._users._failures) <= 100
    assert len(throttle._sources._failures) <= 100
