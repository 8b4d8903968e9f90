"""`GET /ws/agent/audio`: the call's audio for an agent whose phone is the console.

Authenticated like `/ws/agent` (Authorization header, or an `auth` message first), for
an agent account only, and only onto that agent's own call once it is connected to the
agent's browser leg: anything else is closed with 4404 (no such call here). Then 20 ms
binary frames of 16-bit little-endian PCM at 8 kHz (320 bytes) go both ways; frames of
another size, and text messages, get an `error` reply and are dropped. The server
closes with 1000 when the leg ends. In a cluster the socket goes to the process holding
the call's legs: the offer and `call_connected` name it (`audio_url`, from that
process's `http.public_url`). See docs/websocket.md#call-audio-wsagentaudio.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import weakref
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from callcenter.api.websocket.hub import HUB
from callcenter.api.websocket.protocol import Close, Role, error
from callcenter.api.websocket.session import Closing, open_socket, until_void
from callcenter.softphone_bridge.audio_pipe import (
    FRAME_BYTES,
    FRAME_MS,
    WIRE_RATE,
    AudioPipe,
    BrowserAudio,
)

if TYPE_CHECKING:
    from callcenter.calls.service import CallLegs

log = logging.getLogger(__name__)

AUDIO_PATH = "/ws/agent/audio"
#: Close code when the agent has no call connected to its browser leg in this process.
NO_CALL = 4404


def audio_ws_url(base_url: str) -> str:
    """The audio socket's URL on the process reachable at `base_url` (http.public_url):
    the console opens it there, whichever process it is connected to."""
    scheme, _, rest = base_url.rstrip("/").partition("://")
    return f"{'wss' if scheme == 'https' else 'ws'}://{rest}{AUDIO_PATH}"


@dataclass
class AudioSource:
    """Where the sockets find a call's audio: the bridge's pipes and the call flow's legs."""

    audio: BrowserAudio
    legs: Callable[[str], CallLegs | None]
    sockets: weakref.WeakSet[web.WebSocketResponse] = field(default_factory=weakref.WeakSet)


AUDIO = web.AppKey("browser_audio", AudioSource)


async def audio_socket(request: web.Request) -> web.StreamResponse:
    hub = request.app[HUB]
    heartbeat = hub.config.ping_interval_seconds
    refusal = "only an agent has call audio"
    ws, found = await open_socket(request, hub, Role.AGENT, refusal, heartbeat=heartbeat)
    if found is None:
        return ws
    source = request.app.get(AUDIO)
    call_id, pipe = _own_pipe(request.app, found.username)
    if source is None or call_id is None or pipe is None:
        await ws.close(code=NO_CALL, message=b"no call connected to this browser")
        return ws
    if pipe.attached:
        await ws.close(code=Close.REPLACED, message=b"another socket carries this call")
        return ws
    pipe.attached = True
    source.sockets.add(ws)
    try:
        await ws.send_json(
            {
                "type": "audio",
                "call_id": call_id,
                "encoding": "pcm_s16le",
                "rate": WIRE_RATE,
                "frame_ms": FRAME_MS,
                "frame_bytes": FRAME_BYTES,
            }
        )
        closing = await _pump(ws, pipe, until_void(hub, lambda: found))
        if closing is not None:
            await ws.close(code=closing.code, message=closing.reason.encode())
    finally:
        pipe.attached = False
        if not ws.closed:
            await ws.close(code=Close.NORMAL, message=b"call ended")
    return ws


def _own_pipe(app: web.Application, agent_id: str) -> tuple[str | None, AudioPipe | None]:
    """The agent's connected call and its browser leg's pipe, if this process holds them."""
    source = app.get(AUDIO)
    hub = app[HUB]
    if source is None or agent_id not in {a.agent_id for a in hub.acd.agents}:
        return None, None
    call_id = hub.acd.agent(agent_id).call_id
    legs = source.legs(call_id) if call_id is not None else None
    if legs is None or legs.agent_id != agent_id or legs.agent_leg is None:
        return None, None
    return call_id, source.audio.get(legs.agent_leg)


async def _pump(
    ws: web.WebSocketResponse, pipe: AudioPipe, void: Coroutine[Any, Any, Closing]
) -> Closing | None:
    """Frames both ways until the leg ends (the pipe says None), the browser goes, or the
    token stops counting (`void` returns how to close)."""

    async def to_browser() -> None:
        while (frame := await pipe.receive()) is not None:
            await ws.send_bytes(frame)

    sender = asyncio.create_task(to_browser(), name=f"audio-out-{pipe.leg_id[:8]}")
    receiver = asyncio.create_task(ws.receive(), name=f"audio-in-{pipe.leg_id[:8]}")
    watcher = asyncio.create_task(void, name=f"audio-auth-{pipe.leg_id[:8]}")
    try:
        while True:
            await asyncio.wait({sender, receiver, watcher}, return_when=asyncio.FIRST_COMPLETED)
            if watcher.done():
                return watcher.result()
            if sender.done():
                return None  # the leg ended, or the socket broke while sending
            msg = receiver.result()
            if msg.type is WSMsgType.BINARY:
                if len(msg.data) == FRAME_BYTES:
                    pipe.feed(msg.data)
                else:
                    problem = f"a frame is {FRAME_BYTES} bytes, not {len(msg.data)}"
                    await ws.send_str(json.dumps(error(None, "invalid_frame", problem)))
            elif msg.type is WSMsgType.TEXT:
                problem = "only binary audio frames are accepted here"
                await ws.send_str(json.dumps(error(None, "invalid_message", problem)))
            else:  # close, error: the browser went away
                return None
            receiver = asyncio.create_task(ws.receive(), name=f"audio-in-{pipe.leg_id[:8]}")
    finally:
        for task in (sender, receiver, watcher):
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await asyncio.gather(sender, receiver, watcher, return_exceptions=True)


async def close_all(app: web.Application) -> None:
    """At shutdown: every audio socket closes with 1001."""
    source = app.get(AUDIO)
    if source is None:
        return
    for ws in list(source.sockets):
        with contextlib.suppress(ConnectionError, RuntimeError):
            await ws.close(code=Close.GOING_AWAY, message=b"server shutting down")
