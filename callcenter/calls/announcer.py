"""Announcements to callers waiting in a queue: every interval the music stops, the
caller hears their place, the estimated hold time and the callback offer, and the music
resumes (what is said: ivr/announcements.py; config: acd.queues[].announce_*).

Only schedules and plays: the call service tells it when a caller starts waiting, when
an agent's phone rings with the call (the announcement is cut short, the music
resumes), and when the caller leaves the line (callback, overflow, hang-up).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from callcenter.acd.acd import Acd
from callcenter.acd.model import CallPhase
from callcenter.calls.events import QueueAnnouncementPlayed
from callcenter.clock import Clock
from callcenter.ivr.announcements import QueueAnnouncements, next_announcement_in, what_to_say
from callcenter.ivr.prompts import PromptLibrary
from callcenter.softphone_bridge import messages as m

log = logging.getLogger(__name__)

#: PlayPrompt tag of an announcement; its PromptFinished brings the music back.
ANNOUNCEMENT_TAG = "queue-announcement"


class _Telephony(Protocol):
    def send(self, command: m.Command) -> None: ...


@dataclass
class _Listener:
    """One waiting caller's announcements."""

    call_id: str
    language: str
    #: When the music (re)started: the next announcement is an interval after it.
    last: float
    timer: asyncio.TimerHandle | None = None
    #: The queue and prompts of the announcement being played, if one is.
    playing: tuple[str, tuple[str, ...]] | None = None
    #: The caller put the call on hold from the phone: it hears nothing from us.
    held: bool = False


class QueueAnnouncer:
    def __init__(
        self,
        *,
        telephony: _Telephony,
        acd: Acd,
        prompts_directory: Path,
        queues: Mapping[str, QueueAnnouncements],
        clock: Clock,
        publish: Callable[[object], None],
    ) -> None:
        self._telephony = telephony
        self._acd = acd  # reads only: the call's place and the queue's estimate
        self._directory = prompts_directory
        self._queues = {name: q for name, q in queues.items() if q.enabled}
        self._clock = clock
        self._publish = publish
        self._listeners: dict[str, _Listener] = {}

    def waiting(self, call_id: str, language: str) -> None:
        """The caller went to a queue (music): announcements start an interval from now."""
        if not self._queues or call_id in self._listeners:
            return
        listener = _Listener(call_id, language, self._clock.now())
        self._listeners[call_id] = listener
        self._schedule(listener)

    def stop(self, call_id: str) -> None:
        """The caller left the line (a callback, an overflow, a hang-up): no more
        announcements. What replaces one being played is the caller's business."""
        listener = self._listeners.pop(call_id, None)
        if listener is None:
            return
        if listener.timer is not None:
            listener.timer.cancel()
        self._finished(listener, completed=False)

    def cut_short(self, call_id: str) -> None:
        """An agent's phone rings with the call: back to the music at once."""
        listener = self._listeners.get(call_id)
        if listener is None or listener.playing is None:
            return
        self._telephony.send(m.PlayMusic(call_id))
        self._finished(listener, completed=False)
        self._schedule(listener)

    def caller_held(self, call_id: str, held: bool) -> None:
        """The caller's phone put the call on hold (or took it off): no announcements to
        a caller who cannot hear them; one being played gives way to the music."""
        listener = self._listeners.get(call_id)
        if listener is None:
            return
        listener.held = held
        if held:
            self.cut_short(call_id)

    def prompt_finished(self, event: m.PromptFinished) -> bool:
        """Whether the event was an announcement's end (then the music resumes)."""
        if event.tag != ANNOUNCEMENT_TAG:
            return False
        listener = self._listeners.get(event.leg_id)
        if listener is not None and listener.playing is not None:
            self._telephony.send(m.PlayMusic(listener.call_id))
            self._finished(listener, completed=True)
            self._schedule(listener)
        return True

    # ----- internals ---------------------------------------------------------------

    def _schedule(self, listener: _Listener) -> None:
        """The next announcement, by the queue the call is in then (it may move)."""
        queue = self._queue_of(listener.call_id)
        settings = self._queues.get(queue) if queue else None
        if settings is None:
            # Not (yet) in this process's copy of a shared ACD, or in a silent queue it
            # may leave by a transfer: look again as often as the keenest queue would.
            settings = min(self._queues.values(), key=lambda q: q.interval_seconds or 0)
        delay = next_announcement_in(settings, listener.last, self._clock.now())
        if delay is None:
            return
        loop = asyncio.get_running_loop()
        listener.timer = loop.call_later(delay, self._announce, listener)

    def _queue_of(self, call_id: str) -> str | None:
        if not self._acd.has_call(call_id):
            return None
        return self._acd.call(call_id).queue

    def _announce(self, listener: _Listener) -> None:
        listener.timer = None
        if self._listeners.get(listener.call_id) is not listener:
            return
        prompts = self._what_to_say(listener)
        if not prompts:
            listener.last = self._clock.now()
            self._schedule(listener)  # not waiting now (ringing, talking): try later
            return
        queue, names = prompts
        library = PromptLibrary(self._directory, listener.language)
        paths = tuple(library.path(name) for name in names)
        listener.playing = (queue, names)
        log.info("call %s: queue announcement %s", listener.call_id, " ".join(names))
        self._telephony.send(m.PlayPrompt(listener.call_id, paths, ANNOUNCEMENT_TAG))

    def _what_to_say(self, listener: _Listener) -> tuple[str, tuple[str, ...]] | None:
        """The call's queue and its announcement, when the caller waits in line."""
        if listener.held or not self._acd.has_call(listener.call_id):
            return None  # on hold, or not (yet) in this process's copy of a shared ACD
        call = self._acd.call(listener.call_id)
        settings = self._queues.get(call.queue)
        if settings is None or call.phase is not CallPhase.WAITING or call.callback is not None:
            return None
        line = [c.call_id for c in self._acd.waiting_calls(call.queue)]
        position = line.index(call.call_id) + 1 if call.call_id in line else None
        estimate = (
            self._acd.estimated_wait(call.queue, position)
            if settings.wait and position is not None
            else None
        )
        names = what_to_say(settings, position, estimate, listener.language)
        return (call.queue, tuple(names)) if names else None

    def _finished(self, listener: _Listener, *, completed: bool) -> None:
        if listener.playing is None:
            return
        queue, names = listener.playing
        listener.playing = None
        now = listener.last = self._clock.now()
        self._publish(QueueAnnouncementPlayed(now, listener.call_id, queue, names, completed))
