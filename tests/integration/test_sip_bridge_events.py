"""The bridge's typed events for hold, RTP timeout and SIP INFO keys, seen from asyncio.

A bare SipBridge (no call flow, no database) in this process answers every call with music
on hold; SIPp plays the caller. What the call flow makes of these events is tested
end-to-end in tests/e2e/test_sip_session.py.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from callcenter.metrics.bridge_metrics import BridgeMetrics
from callcenter.settings import PromptSettings, SipSettings
from callcenter.softphone_bridge import messages as m
from callcenter.softphone_bridge.bridge import SipBridge
from tests.integration.harness import DEMO_NUMBER, Sipp
from tests.services import (
    free_media_ports,
    free_udp_tcp_port,
    require_pjsua2,
    unavailable,
)

pytestmark = pytest.mark.sip

MUSIC = PromptSettings().music_on_hold


@dataclass
class Peer:
    """The asyncio side: answers each call with music, keeps every event in order.

    With `pair`, the first two answered calls are bridged to each other, and when one
    ends the other is hung up, like a caller and an agent.
    """

    settings: SipSettings
    pair: bool = False
    events: list[m.BridgeEvent] = field(default_factory=list)
    answered: list[str] = field(default_factory=list)
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    bridge: SipBridge | None = None

    def __post_init__(self) -> None:
        self.metrics = BridgeMetrics(self.registry)
        self.arrived = asyncio.Event()

    def on_event(self, event: m.BridgeEvent) -> None:
        self.events.append(event)
        self.arrived.set()
        assert self.bridge is not None
        if isinstance(event, m.InboundCall):
            self.bridge.send(m.Answer(event.leg_id))
            self.bridge.send(m.PlayMusic(event.leg_id))
        elif isinstance(event, m.RtpTimedOut):
            self.metrics.rtp_timed_out()  # the wiring app.py is to do
        elif isinstance(event, m.LegAnswered) and self.pair:
            self.answered.append(event.leg_id)
            if len(self.answered) == 2:
                self.bridge.send(m.Connect(*self.answered))
        elif isinstance(event, m.LegEnded) and event.leg_id in self.answered:
            for other in self.answered:
                if other != event.leg_id:
                    self.bridge.send(m.Hangup(other))

    def of(self, kind: type[object]) -> list[object]:
        return [e for e in self.events if isinstance(e, kind)]

    async def wait_for(self, kind: type[object], count: int = 1, timeout: float = 30) -> None:
        """Until `count` events of this kind have arrived (events cross threads, so they
        may come after SIPp has finished; a protocol step, generously timed)."""
        async with asyncio.timeout(timeout):
            while len(self.of(kind)) < count:
                self.arrived.clear()
                await self.arrived.wait()

    def caller(self, scenario: str, workdir: Path, *extra: str) -> Sipp:
        args = [
            f"127.0.0.1:{self.settings.port}",
            *("-i", "127.0.0.1", "-p", str(free_udp_tcp_port())),
            *("-mi", "127.0.0.1", "-mp", str(free_media_ports())),
            *("-s", "hotline", "-key", "caller", DEMO_NUMBER, "-m", "1"),
            *extra,
            *("-timeout", "60s", "-timeout_error"),
        ]
        return Sipp(scenario, args, workdir)


@pytest.fixture(params=[False])
async def peer(request: pytest.FixtureRequest) -> AsyncIterator[Peer]:
    require_pjsua2()
    if not MUSIC.is_file():
        unavailable(f"music on hold at {MUSIC} (asterisk-moh-opsound-wav)")
    settings = SipSettings(
        port=free_udp_tcp_port(), rtp_port=30_200, rtp_port_range=200, rtp_timeout_seconds=3
    )
    peer = Peer(settings, pair=request.param)
    peer.bridge = SipBridge(settings, MUSIC, peer.on_event)
    await peer.bridge.start()
    try:
        yield peer
    finally:
        await peer.bridge.stop()


async def test_silent_caller_times_out_with_an_event_and_a_count(
    peer: Peer, tmp_path: Path
) -> None:
    sipp = await peer.caller("caller_silent.xml", tmp_path).start()
    code, out = await sipp.wait(60)
    assert code == 0, out + sipp.traces()
    await peer.wait_for(m.LegEnded)
    [inbound] = peer.of(m.InboundCall)
    [timed_out] = peer.of(m.RtpTimedOut)
    [ended] = peer.of(m.LegEnded)
    assert isinstance(inbound, m.InboundCall) and isinstance(timed_out, m.RtpTimedOut)
    assert timed_out.leg_id == inbound.leg_id and timed_out.silent_seconds >= 3
    assert isinstance(ended, m.LegEnded) and ended.reason == m.RTP_TIMEOUT_REASON
    assert peer.events.index(timed_out) < peer.events.index(ended)
    assert peer.registry.get_sample_value("callcenter_sip_rtp_timeouts_total") == 1


async def test_hold_and_resume_by_the_caller_are_events(peer: Peer, tmp_path: Path) -> None:
    sipp = await peer.caller("caller_holds.xml", tmp_path, "-rtp_echo").start()
    code, out = await sipp.wait(60)
    assert code == 0, out + sipp.traces()
    await peer.wait_for(m.LegEnded)
    [inbound] = peer.of(m.InboundCall)
    assert isinstance(inbound, m.InboundCall)
    leg = inbound.leg_id
    holds = [e for e in peer.events if isinstance(e, m.LegHeld | m.LegResumed)]
    assert holds == [
        m.LegHeld(leg, "sendonly"),
        m.LegResumed(leg),
        m.LegHeld(leg, "inactive"),
        m.LegResumed(leg),
    ]
    assert peer.of(m.RtpTimedOut) == []  # silent only while held
    [ended] = peer.of(m.LegEnded)
    assert isinstance(ended, m.LegEnded) and ended.reason != m.RTP_TIMEOUT_REASON


@pytest.mark.parametrize("peer", [True], indirect=True)
async def test_a_bridged_caller_is_heard_again_after_hold(peer: Peer, tmp_path: Path) -> None:
    # The other party echoes what it hears, so neither is silent while bridged; the
    # holder says something only after resuming.
    other = await peer.caller("caller_silent.xml", tmp_path, "-rtp_echo").start()
    await peer.wait_for(m.LegAnswered)
    holder = await peer.caller("caller_holds_then_talks.xml", tmp_path).start()
    code, out = await holder.wait(60)
    assert code == 0, out + holder.traces()
    code, out = await other.wait(30)
    assert code == 0, out + other.traces()  # hung up by the bridge after the holder left
    await peer.wait_for(m.LegEnded, 2)
    ended = {e.leg_id: e for e in peer.events if isinstance(e, m.LegEnded)}
    first, second = peer.answered
    assert ended[first].media["heard_level_peak"] > 0  # heard the holder after the resume
    assert ended[second].media["heard_level_peak"] > 0  # heard its own voice echoed back
    assert peer.of(m.RtpTimedOut) == []


async def test_a_session_refresh_leaves_the_media_alone(
    peer: Peer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="callcenter.softphone_bridge.pjsua_thread")
    sipp = await peer.caller("caller_session_timer.xml", tmp_path).start()
    code, out = await sipp.wait(60)
    assert code == 0, out + sipp.traces()
    await peer.wait_for(m.LegEnded)
    # The refreshing re-INVITE repeats the SDP: the music goes on instead of restarting.
    assert "media renegotiated, stream unchanged" in caplog.text
    assert [type(e) for e in peer.events if not isinstance(e, m.BridgeStarted)] == [
        m.InboundCall,
        m.LegAnswered,
        m.LegEnded,
    ]


async def test_sip_info_key_is_a_dtmf_event(peer: Peer, tmp_path: Path) -> None:
    sipp = await peer.caller("caller_info_presses_2.xml", tmp_path, "-d", "1000").start()
    code, out = await sipp.wait(60)
    assert code == 0, out + sipp.traces()
    await peer.wait_for(m.LegEnded)
    [inbound] = peer.of(m.InboundCall)
    assert isinstance(inbound, m.InboundCall)
    assert peer.of(m.DtmfReceived) == [m.DtmfReceived(inbound.leg_id, "2", "sip_info")]
