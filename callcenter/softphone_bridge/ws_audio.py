"""The conference-bridge port of a browser leg: used from the owner thread only.

The bridge calls `onFrameRequested` and `onFrameReceived` from its media clock thread,
not the owner thread: they only move bytes through the leg's `AudioPipe` (thread-safe)
and never call pjsua2. The owner thread holds the port (as the leg's `audio`) until it
takes it off the bridge by dropping the last reference (pjsua2 removes the port in its
destructor), before the library is destroyed.
"""

from __future__ import annotations

import logging
from typing import Any

import pjsua2 as pj

from callcenter.softphone_bridge.audio_pipe import (
    FRAME_BYTES,
    FRAME_MS,
    SILENCE,
    WIRE_RATE,
    AudioPipe,
)

log = logging.getLogger(__name__)


class BrowserPort(pj.AudioMediaPort):  # type: ignore[misc]
    """Plays the browser's frames into the bridge and hands the bridge's mix to it."""

    def __init__(self, pipe: AudioPipe) -> None:
        super().__init__()
        self.pipe = pipe

    def onFrameRequested(self, frame: Any) -> None:
        try:
            data = self.pipe.next_frame()
            frame.type = pj.PJMEDIA_FRAME_TYPE_AUDIO
            frame.buf = pj.ByteVector(SILENCE if data is None else data)
            frame.size = FRAME_BYTES
        except Exception:  # never unwind into the media clock's C frames
            log.exception("browser port %s: frame for the bridge failed", self.pipe.leg_id)

    def onFrameReceived(self, frame: Any) -> None:
        try:
            if frame.type == pj.PJMEDIA_FRAME_TYPE_AUDIO and frame.size == FRAME_BYTES:
                self.pipe.deliver(bytes(frame.buf))
            else:  # the bridge had nothing for this port: keep the browser's cadence
                self.pipe.deliver(SILENCE)
        except Exception:
            log.exception("browser port %s: frame for the browser failed", self.pipe.leg_id)


def open_port(pipe: AudioPipe) -> BrowserPort:
    """A port in the conference bridge at the wire format (the bridge resamples)."""
    fmt = pj.MediaFormatAudio()
    fmt.init(pj.PJMEDIA_FORMAT_PCM, WIRE_RATE, 1, FRAME_MS * 1000, 16)
    port = BrowserPort(pipe)
    port.createPort(f"browser-{pipe.leg_id[:8]}", fmt)
    return port
