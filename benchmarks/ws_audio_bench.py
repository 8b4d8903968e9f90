"""The delay and jitter of a browser agent's call audio over /ws/agent/audio.

A real `callcenter serve` (alice a browser agent), a SIPp caller that sends no audio of
its own but echoes every RTP packet back (`-rtp_echo`), and a WebSocket client in the
browser's place. The client sends 20 ms frames in real time: silence, with a 100 ms
tone burst every 0.8 s. Each burst goes client -> socket -> bridge port -> caller leg
(PCMA RTP) -> SIPp's echo -> caller leg (PJSIP's jitter buffer) -> bridge -> port ->
socket -> client; the delay is from sending a burst's first frame to the first loud
frame coming back. That round trip crosses the WebSocket path twice, plus the RTP loop.
Jitter: the inter-arrival times of all frames the client received.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import statistics
import struct
import subprocess
import tempfile
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect

from callcenter.softphone_bridge.audio_pipe import FRAME_SAMPLES
from tests.e2e.test_browser_audio import make_browser_agent
from tests.integration.harness import Server, Sipp, caller_args

SILENCE = bytes(FRAME_SAMPLES * 2)
LOUD = 1000  # peak sample that counts as the burst coming back


def tone(n: int) -> bytes:
    samples = (
        int(8000 * math.sin(2 * math.pi * 1000 * (n * FRAME_SAMPLES + i) / 8000))
        for i in range(FRAME_SAMPLES)
    )
    return struct.pack(f"<{FRAME_SAMPLES}h", *samples)


def peak(frame: bytes) -> int:
    return int(max(abs(s) for s in struct.unpack(f"<{len(frame) // 2}h", frame)))


async def console_request(ws: ClientConnection, kind: str, **fields: object) -> None:
    await ws.send(json.dumps({"type": kind, "id": kind, **fields}))


async def next_of(ws: ClientConnection, kind: str, timeout: float = 30) -> dict[str, object]:
    async with asyncio.timeout(timeout):
        while True:
            message = json.loads(await ws.recv())
            if message["type"] == kind:
                return dict(message)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def measure(workdir: Path, bursts: int) -> dict[str, object]:
    server = Server(f"sqlite+aiosqlite:///{workdir / 'callcenter.db'}", workdir)
    await server.prepare()
    await make_browser_agent(server, "alice")
    await server.start()
    try:
        token = await server.login("alice", "alice-demo")
        headers = {"Authorization": f"Bearer {token}"}
        base = f"ws://127.0.0.1:{server.http_port}"
        async with connect(base + "/ws/agent", additional_headers=headers) as console:
            await console_request(console, "set_state", state="available")
            args = [*caller_args(server), "-m", "1", "-rtp_echo"]
            caller = await Sipp("caller_silent.xml", args, workdir).start()
            offer = await next_of(console, "offer")
            await console_request(console, "accept", call_id=offer["call_id"])
            await next_of(console, "call_connected")
            async with connect(base + "/ws/agent/audio", additional_headers=headers) as audio:
                await next_of(audio, "audio", 5)
                result = await loop_bursts(audio, bursts)
            await console_request(console, "hangup", call_id=offer["call_id"])
            await caller.wait(30)
    finally:
        await server.stop()
    return result


async def loop_bursts(audio: ClientConnection, bursts: int) -> dict[str, object]:
    loop = asyncio.get_running_loop()
    arrivals: list[tuple[float, int]] = []

    async def listen() -> None:
        async for frame in audio:
            if isinstance(frame, bytes):
                arrivals.append((loop.time(), peak(frame)))

    listener = asyncio.create_task(listen())
    burst_at: list[float] = []
    start = loop.time()
    lead_in, period, burst = 100, 40, 5  # frames: 2 s of silence, a burst each 0.8 s
    for n in range(lead_in + bursts * period):
        k = n - lead_in
        loud = k >= 0 and k % period < burst
        if loud and k % period == 0:
            burst_at.append(loop.time())
        await audio.send(tone(n) if loud else SILENCE)
        await asyncio.sleep(max(0.0, start + (n + 1) * 0.02 - loop.time()))
    await asyncio.sleep(1.0)
    listener.cancel()
    await asyncio.gather(listener, return_exceptions=True)

    delays = []
    for sent in burst_at:
        back = next((t for t, p in arrivals if t > sent and p >= LOUD), None)
        if back is not None and back - sent < period * 0.02:
            delays.append((back - sent) * 1000)
    gaps = [(b[0] - a[0]) * 1000 for a, b in itertools.pairwise(arrivals)]
    return {
        "bursts": bursts,
        "bursts_back": len(delays),
        "round_trip_ms": {
            "median": round(statistics.median(delays), 1),
            "min": round(min(delays), 1),
            "max": round(max(delays), 1),
            "each": [round(d) for d in delays],
        }
        if delays
        else None,
        "frames_received": len(arrivals),
        "inter_arrival_ms": {
            "mean": round(statistics.mean(gaps), 2),
            "stdev": round(statistics.stdev(gaps), 2),
            "p50": round(percentile(gaps, 50), 2),
            "p95": round(percentile(gaps, 95), 2),
            "p99": round(percentile(gaps, 99), 2),
            "max": round(max(gaps), 2),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bursts", type=int, default=12)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result = asyncio.run(measure(Path(tmp), args.bursts))
    cpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    model = next(
        (line.split(":", 1)[1].strip() for line in cpu.splitlines() if "Model name" in line), "?"
    )
    print(json.dumps({"machine": model, **result}, indent=2))


if __name__ == "__main__":
    main()
