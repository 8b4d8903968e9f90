"""The IVR's input timers of one call (menu timeouts, digit timeouts), which stand still
while the caller has put the call on hold: a caller who holds to look up a ticket number
must not come back to "sorry, I did not hear a choice" or a hung-up call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class Handle(Protocol):
    def cancel(self) -> None: ...


class Scheduler(Protocol):
    """What the timers need of the event loop (asyncio's loop has both)."""

    def time(self) -> float: ...

    def call_later(self, delay: float, callback: Callable[[str], None], arg: str, /) -> Handle: ...


class IvrTimers:
    """Timers by id; `fire(timer_id)` runs when one expires, unless cancelled first."""

    def __init__(self, scheduler: Scheduler, fire: Callable[[str], None]) -> None:
        self._scheduler = scheduler
        self._fire = fire
        #: Running timers: id -> (handle, when it fires on the scheduler's clock).
        self._running: dict[str, tuple[Handle, float]] = {}
        #: Timers stopped by a hold: id -> seconds they had left.
        self._paused: dict[str, float] = {}
        self.held = False

    def __len__(self) -> int:
        return len(self._running) + len(self._paused)

    def __contains__(self, timer_id: object) -> bool:
        return timer_id in self._running or timer_id in self._paused

    def start(self, timer_id: str, seconds: float) -> None:
        self.cancel(timer_id)
        if self.held:
            self._paused[timer_id] = seconds  # it starts running once the caller resumes
        else:
            self._run(timer_id, seconds)

    def cancel(self, timer_id: str) -> None:
        running = self._running.pop(timer_id, None)
        if running is not None:
            running[0].cancel()
        self._paused.pop(timer_id, None)

    def cancel_all(self) -> None:
        for handle, _ in self._running.values():
            handle.cancel()
        self._running.clear()
        self._paused.clear()

    def hold(self) -> None:
        """The caller's leg is on hold: every timer keeps the time it had left."""
        if self.held:
            return
        self.held = True
        now = self._scheduler.time()
        for timer_id, (handle, when) in self._running.items():
            handle.cancel()
            self._paused[timer_id] = max(0.0, when - now)
        self._running.clear()

    def resume(self) -> None:
        """Off hold: the timers run on from where they stood."""
        if not self.held:
            return
        self.held = False
        paused, self._paused = self._paused, {}
        for timer_id, left in paused.items():
            self._run(timer_id, left)

    def _run(self, timer_id: str, seconds: float) -> None:
        when = self._scheduler.time() + seconds
        handle = self._scheduler.call_later(seconds, self._expired, timer_id)
        self._running[timer_id] = (handle, when)

    def _expired(self, timer_id: str) -> None:
        if self._running.pop(timer_id, None) is not None:
            self._fire(timer_id)
