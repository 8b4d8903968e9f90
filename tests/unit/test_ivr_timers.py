"""The IVR's input timers stand still while the caller holds the call, on a fake clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from callcenter.calls.ivr_timers import IvrTimers


@dataclass
class _Handle:
    when: float
    callback: Callable[[str], None]
    arg: str
    cancelled: bool = False

    def cancel(self) -> None:
        self.cancelled = True


@dataclass
class FakeLoop:
    """call_later and time() of an event loop whose time moves only by `advance`."""

    now: float = 0.0
    handles: list[_Handle] = field(default_factory=list)

    def time(self) -> float:
        return self.now

    def call_later(self, delay: float, callback: Callable[[str], None], arg: str, /) -> _Handle:
        handle = _Handle(self.now + delay, callback, arg)
        self.handles.append(handle)
        return handle

    def advance(self, seconds: float) -> None:
        self.now += seconds
        for handle in sorted(self.handles, key=lambda h: h.when):
            if handle.when <= self.now and not handle.cancelled:
                handle.cancelled = True
                handle.callback(handle.arg)


def make() -> tuple[FakeLoop, IvrTimers, list[str]]:
    loop, fired = FakeLoop(), list[str]()
    return loop, IvrTimers(loop, fired.append), fired


def test_a_timer_fires_after_its_seconds_unless_cancelled() -> None:
    loop, timers, fired = make()
    timers.start("menu/timeout/1", 5)
    timers.start("menu/timeout/2", 5)
    timers.cancel("menu/timeout/2")
    loop.advance(4.9)
    assert fired == []
    loop.advance(0.1)
    assert fired == ["menu/timeout/1"]
    assert len(timers) == 0


def test_a_hold_stops_the_clock_of_every_timer_until_the_caller_resumes() -> None:
    loop, timers, fired = make()
    timers.start("menu/timeout/1", 5)
    loop.advance(3)
    timers.hold()
    loop.advance(60)  # a long hold: the menu does not time out
    assert fired == []
    assert "menu/timeout/1" in timers
    timers.resume()
    loop.advance(1.9)
    assert fired == []
    loop.advance(0.1)  # the 2 s it had left
    assert fired == ["menu/timeout/1"]


def test_a_timer_started_during_a_hold_starts_running_on_resume() -> None:
    loop, timers, fired = make()
    timers.hold()
    timers.hold()  # a second re-INVITE with sendonly changes nothing
    timers.start("collect/first_digit/1", 8)
    loop.advance(30)
    assert fired == []
    timers.resume()
    loop.advance(8)
    assert fired == ["collect/first_digit/1"]


def test_cancel_all_forgets_paused_timers_too() -> None:
    loop, timers, fired = make()
    timers.start("a", 1)
    timers.hold()
    timers.start("b", 1)
    timers.cancel_all()
    timers.resume()
    loop.advance(10)
    assert fired == [] and len(timers) == 0
