"""The asyncio face of the SIP bridge: start, send commands, stop, without blocking the loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from callcenter.softphone_bridge import messages as m
from callcenter.softphone_bridge.audio_pipe import BrowserAudio
from callcenter.softphone_bridge.settings import SipSettings

log = logging.getLogger(__name__)


class SipBridge:
    def __init__(
        self,
        settings: SipSettings,
        music_on_hold: Path,
        on_event: Callable[[m.BridgeEvent], None],
    ) -> None:
        self._settings = settings
        self._music = music_on_hold
        self._on_event = on_event
        self._thread: object | None = None
        #: The browser legs' audio, for the consoles' audio sockets.
        self.browser_audio = BrowserAudio()

    async def start(self) -> None:
        # Imported here so that everything else (API, tests of the core) runs without pjsua2.
        from callcenter.softphone_bridge.pjsua_thread import PjsuaThread

        thread = PjsuaThread(
            self._settings,
            self._music,
            asyncio.get_running_loop(),
            self._on_event,
            self.browser_audio,
        )
        await asyncio.to_thread(thread.start)
        self._thread = thread

    def send(self, command: m.Command) -> None:
        if self._thread is None:
            # Stopping: the bridge hangs up every leg itself, nothing more to do.
            log.debug("bridge stopped; dropped %r", command)
            return
        self._thread.send(command)  # type: ignore[attr-defined]

    @property
    def alive(self) -> bool:
        """Started, and its library thread still runs: SIP is served."""
        return self._thread is not None and bool(self._thread.alive)  # type: ignore[attr-defined]

    def stop_accepting(self) -> None:
        if self._thread is not None:
            self._thread.stop_accepting()  # type: ignore[attr-defined]

    async def stop(self, timeout: float = 3.0) -> None:
        """Hang up every leg and destroy the library; returns within about timeout + 1 s."""
        thread, self._thread = self._thread, None
        if thread is not None:
            await asyncio.to_thread(thread.stop, timeout)  # type: ignore[attr-defined]
