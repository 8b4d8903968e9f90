"""A browser leg's audio pipe: the jitter buffer towards the bridge and the bounded queue
towards the browser, with the bridge's side driven from another thread as the media
clock does."""

from __future__ import annotations

import asyncio
import threading

from callcenter.softphone_bridge.audio_pipe import FRAME_BYTES, AudioPipe, BrowserAudio


def frame(n: int) -> bytes:
    return bytes([n % 256]) * FRAME_BYTES


async def test_the_jitter_buffer_drops_the_oldest_and_runs_dry_to_silence() -> None:
    pipe = AudioPipe("leg", asyncio.get_running_loop(), jitter_frames=10, target_frames=10)
    for n in range(12):
        pipe.feed(frame(n))
    taken = [pipe.next_frame() for _ in range(11)]
    assert taken[:10] == [frame(n) for n in range(2, 12)]  # 0 and 1 were dropped
    assert taken[10] is None  # the bridge plays silence
    assert (pipe.frames_in, pipe.frames_played, pipe.underruns) == (12, 10, 1)


async def test_a_backlog_above_the_target_drains_one_frame_a_tick() -> None:
    pipe = AudioPipe("leg", asyncio.get_running_loop(), jitter_frames=10, target_frames=3)
    for n in range(10):  # a stalled sender catches up at once
        pipe.feed(frame(n))
    taken = [pipe.next_frame() for _ in range(7)]
    assert taken == [frame(1), frame(3), frame(5), frame(7), frame(8), frame(9), None]
    assert pipe.frames_skipped == 4


async def test_frames_from_the_clock_thread_reach_the_loop_in_order_then_the_end() -> None:
    audio = BrowserAudio()
    pipe = audio.open("leg", asyncio.get_running_loop())
    assert audio.get("leg") is pipe

    def clock() -> None:
        for n in range(3):
            pipe.deliver(frame(n))
        audio.close("leg")

    thread = threading.Thread(target=clock)
    thread.start()
    thread.join()
    got = [await asyncio.wait_for(pipe.receive(), 1) for _ in range(4)]
    assert got == [frame(0), frame(1), frame(2), None]
    assert audio.get("leg") is None
    pipe.deliver(frame(9))  # after the end: ignored
    await asyncio.sleep(0)
    assert pipe.frames_out == 3


async def test_a_slow_socket_loses_the_oldest_frames_not_the_newest() -> None:
    pipe = AudioPipe("leg", asyncio.get_running_loop(), outbound_frames=4)
    for n in range(6):
        pipe.deliver(frame(n))
    await asyncio.sleep(0)
    got = [await pipe.receive() for _ in range(4)]
    assert got == [frame(n) for n in range(2, 6)]
    assert pipe.frames_dropped == 2
