"""A browser leg's audio between the bridge's media clock and the event loop.

An agent whose phone is the console (agent `sip_uri` `browser:`) has no SIP leg: its
leg is a conference-bridge port (`ws_audio.BrowserPort`) fed by the console's audio
WebSocket. The port's callbacks run in the media clock thread, the socket in the event
loop; an `AudioPipe` is the only thing both touch. Towards the bridge it is a bounded
jitter buffer (a deque: append and popleft are atomic; the oldest frame is dropped when
it is full, silence is played when it is empty); towards the browser each frame is
handed to the loop with `call_soon_threadsafe` and queued, bounded, for the socket.

No pjsua2 here: the API side and the tests use it without the SIP stack.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import threading

log = logging.getLogger(__name__)

#: The wire format, both ways: 20 ms of 16-bit little-endian mono PCM at 8 kHz.
WIRE_RATE = 8000
FRAME_MS = 20
FRAME_SAMPLES = WIRE_RATE * FRAME_MS // 1000
FRAME_BYTES = FRAME_SAMPLES * 2
SILENCE = bytes(FRAME_BYTES)
#: Frames from the browser waiting for the bridge: 200 ms, beyond it the oldest go.
JITTER_FRAMES = 10
#: Above this many waiting frames (60 ms) the bridge skips one each tick: after a stall
#: (a busy loop, a network hiccup) the backlog drains instead of delaying the call for good.
TARGET_FRAMES = 3
#: Frames for the browser waiting for a slow socket: 1 s, beyond it the oldest go.
OUTBOUND_FRAMES = 50


class AudioPipe:
    """One browser leg's frames both ways, and counters of what crossed."""

    def __init__(
        self,
        leg_id: str,
        loop: asyncio.AbstractEventLoop,
        jitter_frames: int = JITTER_FRAMES,
        outbound_frames: int = OUTBOUND_FRAMES,
        target_frames: int = TARGET_FRAMES,
    ) -> None:
        self.leg_id = leg_id
        self._target = target_frames
        self._loop = loop
        self._to_bridge: collections.deque[bytes] = collections.deque(maxlen=jitter_frames)
        self._to_browser: asyncio.Queue[bytes | None] = asyncio.Queue(outbound_frames)
        self.closed = False
        self.attached = False  # a socket carries this leg (loop)
        #: Counters, each written by one thread only.
        self.frames_in = 0  # from the browser (loop)
        self.frames_played = 0  # taken by the bridge (clock thread)
        self.underruns = 0  # the bridge asked and nothing was there (clock thread)
        self.frames_skipped = 0  # dropped to catch up with a backlog (clock thread)
        self.frames_out = 0  # queued for the browser (loop)
        self.frames_dropped = 0  # for the browser, dropped for a slow socket (loop)

    # ----- event loop ----------------------------------------------------------------

    def feed(self, frame: bytes) -> None:
        """A frame from the browser; the caller checked its size."""
        self.frames_in += 1
        self._to_bridge.append(frame)  # maxlen: the oldest is dropped when full

    async def receive(self) -> bytes | None:
        """The next frame for the browser; None once the leg has ended."""
        return await self._to_browser.get()

    def _queue(self, frame: bytes | None) -> None:
        if frame is None:
            self.closed = True
        while True:
            try:
                self._to_browser.put_nowait(frame)
                break
            except asyncio.QueueFull:
                self._to_browser.get_nowait()
                self.frames_dropped += 1
        if frame is not None:
            self.frames_out += 1

    # ----- media clock thread --------------------------------------------------------

    def next_frame(self) -> bytes | None:
        """The frame the bridge plays next, None when the browser sent nothing in time."""
        if len(self._to_bridge) > self._target:
            with contextlib.suppress(IndexError):
                self._to_bridge.popleft()
                self.frames_skipped += 1
        try:
            frame = self._to_bridge.popleft()
        except IndexError:
            self.underruns += 1
            return None
        self.frames_played += 1
        return frame

    def deliver(self, frame: bytes) -> None:
        """A frame the bridge mixed for the browser."""
        if self.closed:
            return
        try:
            self._loop.call_soon_threadsafe(self._queue, frame)
        except RuntimeError:  # the loop is closed: the process is stopping
            self.closed = True

    # ----- owner thread --------------------------------------------------------------

    def close(self) -> None:
        """The leg ended: the socket gets None and closes."""
        try:
            self._loop.call_soon_threadsafe(self._queue, None)
        except RuntimeError:
            self.closed = True


class BrowserAudio:
    """The pipes of the live browser legs, by leg id: opened and closed by the bridge's
    owner thread, looked up by the audio WebSocket on the loop (hence the lock)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pipes: dict[str, AudioPipe] = {}

    def open(self, leg_id: str, loop: asyncio.AbstractEventLoop) -> AudioPipe:
        pipe = AudioPipe(leg_id, loop)
        with self._lock:
            self._pipes[leg_id] = pipe
        return pipe

    def close(self, leg_id: str) -> None:
        with self._lock:
            pipe = self._pipes.pop(leg_id, None)
        if pipe is not None:
            pipe.close()

    def get(self, leg_id: str) -> AudioPipe | None:
        with self._lock:
            return self._pipes.get(leg_id)
