"""The one thread that owns PJSIP.

pjsua2 is created, polled (threadCnt=0: no PJSIP worker threads, SIP and RTP are both
handled in `libHandleEvents` here) and destroyed in this thread; nothing else touches it.
Commands arrive on a thread-safe queue; events leave through `loop.call_soon_threadsafe`.
Every pjsua2 Call and player has a Python reference held here until PJSIP is done with
it, and tear-down runs in the order PJSIP needs: players, calls, then the library.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
import queue
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pjsua2 as pj

from callcenter.softphone_bridge import identity
from callcenter.softphone_bridge import messages as m
from callcenter.softphone_bridge.audio_pipe import BrowserAudio
from callcenter.softphone_bridge.digest import DigestGuard, Verdict
from callcenter.softphone_bridge.flood import FloodGuard
from callcenter.softphone_bridge.settings import SipSettings
from callcenter.softphone_bridge.ws_audio import open_port

log = logging.getLogger(__name__)

#: How long one poll may block; commands wait at most this long to be picked up.
POLL_MS = 5
#: How long a finished prompt player is kept before pjsua2 may destroy it: its end-of-file
#: event can still be queued in pjmedia's event thread, which would then touch a freed
#: player (a crash seen under load; pjproject's fix is PR #5045, not in our build).
PLAYER_GRACE_SECONDS = 2.0
#: How often the level of what each bridged party hears is sampled (one-way audio check).
LEVEL_SAMPLE_SECONDS = 0.25
#: How long a source must have fed a leg before the leg's level is counted as that
#: source's. The bridge's level is the last mixed frame's, and a connection takes effect
#: on the bridge clock's next tick: five 20 ms frames leave room for a late clock.
LEVEL_SETTLE_SECONDS = 0.1
#: How often calls PJSIP ended without telling us are looked for.
REAP_SECONDS = 1.0
#: How often each leg's count of received RTP packets is read (the RTP timeout).
RTP_CHECK_SECONDS = 1.0
#: sip.transports names -> PJSIP transport types (TLS listens on sip.tls_port).
_TRANSPORT_TYPES = {
    "udp": pj.PJSIP_TRANSPORT_UDP,
    "tcp": pj.PJSIP_TRANSPORT_TCP,
    "tls": pj.PJSIP_TRANSPORT_TLS,
}
#: Headroom of pjsua call slots beyond two legs per inbound call (rejections in flight).
CALL_SLOT_HEADROOM = 16


class BridgeStartError(RuntimeError):
    pass


@dataclass
class _Leg:
    leg_id: str
    call: _Call | None  # None: a browser leg, whose audio is a BrowserPort
    inbound: bool
    answered: bool = False
    audio: Any = None  # pj.AudioMedia once media is active
    #: What the leg should hear: ("prompt", paths, tag, serial) | ("music",) | ("peer", leg_id)
    wanted: tuple[Any, ...] | None = None
    playing: tuple[Any, ...] | None = None
    #: Monotonic time `playing` started feeding the leg (see LEVEL_SETTLE_SECONDS).
    playing_since: float = 0.0
    player: Any = None  # the prompt player feeding this leg
    media: dict[str, int] = field(default_factory=dict)
    audio_index: int | None = None  # SDP index of the audio stream, active or held
    #: "sendonly" or "inactive" while the far end holds the leg, else None.
    held: str | None = None
    rx_packets: int = 0  # RTP packets received on the stream when last read
    rx_seen_at: float = 0.0  # monotonic time RTP last arrived (or the silence clock restarted)
    end_reason: str | None = None  # why we hung up, when LegEnded should say so
    #: A stream (and its bridge port) was created or destroyed since media was last routed.
    stream_replaced: bool = True


@dataclass
class _Monitor:
    """A supervisor's leg wired one way into a caller-agent call (m.Monitor)."""

    command: m.Monitor
    #: (source leg, listener leg) pairs transmitting now; a pair waits while either
    #: leg has no media (ringing, held).
    links: set[tuple[str, str]] = field(default_factory=set)


def _guarded(callback: Callable[..., None]) -> Callable[..., None]:
    """An exception must never unwind into PJSIP's C++ frames: log it and carry on."""

    @functools.wraps(callback)
    def wrapper(*args: Any) -> None:
        try:
            callback(*args)
        except Exception:
            log.exception("pjsua2 callback %s failed", callback.__name__)

    return wrapper


class _Call(pj.Call):  # type: ignore[misc]
    """Forwards pjsua2's callbacks to the owner; they run in the owner thread."""

    def __init__(self, owner: PjsuaThread, account: Any, call_id: int = pj.PJSUA_INVALID_ID):
        super().__init__(account, call_id)
        self.owner = owner
        self.leg_id: str | None = None

    @_guarded
    def onCallState(self, prm: Any) -> None:
        self.owner._on_call_state(self)

    @_guarded
    def onCallMediaState(self, prm: Any) -> None:
        self.owner._on_media_state(self)

    @_guarded
    def onDtmfDigit(self, prm: Any) -> None:
        # Once per key press, for RFC 4733 telephone-events and SIP INFO alike.
        method = "sip_info" if prm.method == pj.PJSUA_DTMF_METHOD_SIP_INFO else "rfc4733"
        if self.leg_id is not None:
            digit = identity.lenient(str(prm.digit))
            self.owner._emit(m.DtmfReceived(self.leg_id, digit, method))

    @_guarded
    def onCallTransferStatus(self, prm: Any) -> None:
        self.owner._on_transfer_status(self, prm)

    @_guarded
    def onStreamCreated(self, prm: Any) -> None:
        self.owner._on_stream_created(self)

    @_guarded
    def onStreamDestroyed(self, prm: Any) -> None:
        self.owner._on_stream_destroyed(self, prm.streamIdx)


class _Account(pj.Account):  # type: ignore[misc]
    def __init__(self, owner: PjsuaThread) -> None:
        super().__init__()
        self.owner = owner

    @_guarded
    def onIncomingCall(self, prm: Any) -> None:
        self.owner._on_incoming_call(self, prm)


class _Player(pj.AudioMediaPlayer):  # type: ignore[misc]
    """A prompt player; its end-of-file callback may come from the media clock thread."""

    def __init__(self, owner: PjsuaThread, leg_id: str, serial: int) -> None:
        super().__init__()
        self.owner, self.leg_id, self.serial = owner, leg_id, serial

    @_guarded
    def onEof2(self) -> None:
        self.owner._eof.put((self.leg_id, self.serial))


class _LogWriter(pj.LogWriter):  # type: ignore[misc]
    def write(self, entry: Any) -> None:
        log.debug("pjsip: %s", entry.msg.rstrip())


class PjsuaThread:
    def __init__(
        self,
        settings: SipSettings,
        music_on_hold: Path,
        loop: asyncio.AbstractEventLoop,
        on_event: Callable[[m.BridgeEvent], None],
        browser_audio: BrowserAudio | None = None,
    ) -> None:
        self._settings = settings
        self.browser_audio = browser_audio or BrowserAudio()
        self._music_path = music_on_hold
        self._loop = loop
        self._on_event = on_event
        self._commands: queue.SimpleQueue[m.Command] = queue.SimpleQueue()
        self._eof: queue.SimpleQueue[tuple[str, int]] = queue.SimpleQueue()
        self._serial = 0  # tells a prompt's end from the end of one it replaced
        self._thread = threading.Thread(target=self._run, name="pjsua", daemon=True)
        self._started = threading.Event()
        self._start_error: BaseException | None = None
        self._stopping = threading.Event()
        self._accepting = True
        self._next_level_sample = 0.0
        self._next_reap = 0.0
        self._next_rtp_check = 0.0
        self._flood = FloodGuard(
            settings.invite_rate_per_source, settings.invite_burst_per_source, time.monotonic
        )
        #: (what, source) -> when it was last logged: one line a minute per source.
        self._logged: dict[tuple[str, str], float] = {}
        self._digest = DigestGuard(settings.auth_nonce_seconds, time.monotonic)
        self._legs: dict[str, _Leg] = {}
        #: Supervisions by the supervisor's leg id.
        self._monitors: dict[str, _Monitor] = {}
        self._calls: list[_Call] = []  # every pjsua2 Call alive in PJSIP, leg or not
        self._graveyard: list[Any] = []  # released after the callback that ended them
        #: Players taken off their legs, released PLAYER_GRACE_SECONDS later (oldest first).
        self._parked_players: deque[tuple[float, Any]] = deque()
        self._ep: Any = None
        self._account: Any = None
        self._music: Any = None
        self._log_writer: Any = None
        self.max_calls = settings.max_calls

    # ----- asyncio side --------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> None:
        """Start the thread and wait until the SIP transports listen (blocking)."""
        self._thread.start()
        if not self._started.wait(timeout):
            raise BridgeStartError("the SIP stack did not start in time")
        if self._start_error is not None:
            raise BridgeStartError(str(self._start_error)) from self._start_error

    def send(self, command: m.Command) -> None:
        self._commands.put(command)

    @property
    def alive(self) -> bool:
        """Whether the thread that owns the library still runs (polls events)."""
        return self._thread.is_alive()

    def stop_accepting(self) -> None:
        """New INVITEs get 503 from now on; calls in progress go on."""
        self._accepting = False

    def stop(self, timeout: float = 4.0) -> None:
        """Hang up every leg, wait for PJSIP to finish them, destroy the library (blocking)."""
        self._accepting = False
        self._stop_deadline = time.monotonic() + timeout
        self._stopping.set()
        self._thread.join(timeout + 2.0)

    # ----- the owner thread ----------------------------------------------------------

    def _emit(self, event: m.BridgeEvent) -> None:
        try:
            self._loop.call_soon_threadsafe(self._on_event, event)
        except RuntimeError:
            log.warning("event loop closed; dropped %r", event)

    def _run(self) -> None:
        try:
            self._init_library()
        except BaseException as exc:
            self._start_error = (
                RuntimeError(f"{exc.title}: {exc.reason}") if isinstance(exc, pj.Error) else exc
            )
            self._destroy_library()
            self._started.set()
            return
        self._started.set()
        try:
            while not self._stopping.is_set():
                self._poll_once()
            self._shutdown_calls()
        except BaseException:
            log.exception("the SIP thread failed")
        finally:
            self._destroy_library()

    def _poll_once(self) -> None:
        self._drain_commands()
        self._drain_eof()
        self._ep.libHandleEvents(POLL_MS)
        self._graveyard.clear()
        now = time.monotonic()
        while self._parked_players and self._parked_players[0][0] <= now:
            self._parked_players.popleft()
        if now >= self._next_level_sample:
            self._next_level_sample = now + LEVEL_SAMPLE_SECONDS
            self._sample_levels()
        if now >= self._next_reap:
            self._next_reap = now + REAP_SECONDS
            self._reap_dead_calls()
        if now >= self._next_rtp_check:
            self._next_rtp_check = now + RTP_CHECK_SECONDS
            self._check_rtp(now)

    def _sample_levels(self) -> None:
        """Remember the loudest the other party sounded to each bridged leg.

        A bridged leg whose peak stays 0 heard nothing: one-way audio, visible in the
        call record instead of only in a complaint.
        """
        now = time.monotonic()
        for leg in self._legs.values():
            self._read_level(leg, now)
            if leg.audio is not None and leg.playing is not None and leg.playing[0] == "music":
                # Roughly how long it heard music, in ms.
                step = int(LEVEL_SAMPLE_SECONDS * 1000)
                leg.media["music_ms"] = leg.media.get("music_ms", 0) + step
        for monitor in self._monitors.values():
            # The supervisor hears the call only through its monitor links.
            supervisor = self._legs.get(monitor.command.leg_id)
            if supervisor is None or supervisor.audio is None:
                continue
            if any(listener == supervisor.leg_id for _, listener in monitor.links):
                level = int(supervisor.audio.getRxLevel())
                peak = max(supervisor.media.get("heard_level_peak", 0), level)
                supervisor.media["heard_level_peak"] = peak

    def _read_level(self, leg: _Leg, now: float) -> None:
        """Count the leg's level for the source feeding it, once that source has fed it
        for LEVEL_SETTLE_SECONDS: a reading taken sooner may still be the previous
        source's frame (music on hold counted as a silent agent, or the other way)."""
        playing = leg.playing
        if leg.audio is None or playing is None or playing[0] not in ("peer", "music"):
            return
        if now - leg.playing_since < LEVEL_SETTLE_SECONDS:
            return
        # "Rx" is what the bridge sends to the port: what this party hears. Music on
        # hold (waiting, or held by the agent) is kept apart from the other party.
        key = "heard_level_peak" if playing[0] == "peer" else "music_level_peak"
        with contextlib.suppress(pj.Error):  # the port may have left with its call
            level = int(leg.audio.getRxLevel())
            leg.media[key] = max(leg.media.get(key, 0), level)

    def _init_library(self) -> None:
        s = self._settings
        ep = pj.Endpoint()
        ep.libCreate()
        self._ep = ep
        cfg = pj.EpConfig()
        cfg.uaConfig.threadCnt = 0
        cfg.uaConfig.mainThreadOnly = False
        cfg.uaConfig.maxCalls = min(2 * s.max_calls + CALL_SLOT_HEADROOM, 1024)
        cfg.uaConfig.userAgent = s.user_agent
        cfg.medConfig.threadCnt = 0
        cfg.medConfig.clockRate = s.clock_rate
        cfg.medConfig.sndClockRate = s.clock_rate
        cfg.medConfig.noVad = True
        cfg.medConfig.sndAutoCloseTime = -1
        cfg.logConfig.level = s.log_level
        cfg.logConfig.consoleLevel = s.log_level
        self._log_writer = _LogWriter()
        cfg.logConfig.writer = self._log_writer
        ep.libInit(cfg)
        for kind in s.transports:
            tcfg = pj.TransportConfig()
            tcfg.port = s.tls_port if kind == "tls" else s.port
            tcfg.boundAddress = s.host
            if kind == "tls":
                self._configure_tls(tcfg.tlsConfig)
            ep.transportCreate(_TRANSPORT_TYPES[kind], tcfg)
        ep.libStart()
        ep.audDevManager().setNullDev()
        self._restrict_codecs(ep)
        acfg = pj.AccountConfig()
        acfg.idUri = f"sip:{s.hotline_user}@{s.host}:{s.port}"
        acfg.mediaConfig.transportConfig.port = s.rtp_port
        acfg.mediaConfig.transportConfig.portRange = s.rtp_port_range
        acfg.mediaConfig.transportConfig.boundAddress = s.host
        # RFC 4028: honoured when a peer asks (Supported: timer), not imposed on one that
        # does not; a refresh that never comes ends the call with BYE.
        acfg.callConfig.timerUse = pj.PJSUA_SIP_TIMER_OPTIONAL
        acfg.callConfig.timerSessExpiresSec = s.session_expires_seconds
        acfg.callConfig.timerMinSESec = s.session_min_se_seconds
        account = _Account(self)
        account.create(acfg, True)
        self._account = account
        self._music = pj.AudioMediaPlayer()
        self._music.createPlayer(str(self._music_path), 0)  # loops
        version = ep.libVersion().full
        tls = f" (tls on {s.tls_port})" if "tls" in s.transports else ""
        log.info(
            "SIP bridge up: PJSIP %s on %s:%d %s%s", version, s.host, s.port, s.transports, tls
        )
        self._emit(m.BridgeStarted(version, s.max_calls))

    def _configure_tls(self, tls: Any) -> None:
        """Our certificate and key. The peers we connect to must show a certificate signed
        by a trusted CA (tls_ca_file, else the system's bundle) unless tls_verify_server is
        off; so must peers connecting to us with tls_verify_client."""
        s = self._settings
        tls.certFile = str(s.tls_certificate)
        tls.privKeyFile = str(s.tls_private_key)
        tls.proto = pj.PJ_SSL_SOCK_PROTO_TLS1_2 | pj.PJ_SSL_SOCK_PROTO_TLS1_3  # nothing older
        tls.CaListFile = str(s.tls_trusted)
        tls.verifyServer = s.tls_verify_server
        if not s.tls_verify_server:
            log.warning("sip.tls_verify_server is false: outbound TLS peers are not verified")
        tls.verifyClient = s.tls_verify_client
        tls.requireClientCert = s.tls_verify_client

    @staticmethod
    def _restrict_codecs(ep: Any) -> None:
        """Offer what telephony peers expect, G.711 first: PCMU, PCMA, then G.722."""
        priorities = {"PCMU/": 130, "PCMA/": 129, "G722/": 128}
        for codec in ep.codecEnum2():
            name = codec.codecId
            wanted = next((p for prefix, p in priorities.items() if name.startswith(prefix)), 0)
            ep.codecSetPriority(name, wanted)

    # ----- inbound INVITEs -----------------------------------------------------------

    def _on_incoming_call(self, account: Any, prm: Any) -> None:
        call = _Call(self, account, prm.callId)
        self._calls.append(call)
        rdata = prm.rdata
        source = identity.source_host(rdata.srcAddress)
        message = identity.lenient(rdata.wholeMsg)  # every text of the call comes from here
        refusal = self._refusal(source, message)
        headers: dict[str, str] = {}
        if refusal is None:
            refusal, headers = self._authenticate(source, message)
        if refusal is not None:
            reason, code = refusal
            if code == 503:
                headers["Retry-After"] = str(self._settings.retry_after_seconds)
            self._respond(call, code, headers)
            if reason == "trunk" and self._first_in_a_minute(("trunk", source)):
                log.warning("refused SIP INVITE from %s: not a configured trunk", rdata.srcAddress)
            caller = identity.caller_identity(message)
            call_ids = identity.headers(message).get("call-id")
            self._emit(
                m.CallRefused(
                    reason,
                    code,
                    source,
                    call_ids[0] if call_ids else None,
                    caller.user if caller else None,
                )
            )
            return
        leg_id = str(uuid.uuid4())
        call.leg_id = leg_id
        self._legs[leg_id] = _Leg(leg_id, call, inbound=True)
        caller = identity.caller_identity(message)
        headers_found = identity.headers(message)
        sip_call_id = (headers_found.get("call-id") or [""])[0]
        self._respond(call, 180)
        self._emit(
            m.InboundCall(
                leg_id,
                sip_call_id,
                caller.user if caller else None,
                caller.display if caller else None,
                source,
            )
        )

    def _refusal(self, source: str, message: str) -> tuple[str, int] | None:
        """Why an INVITE is refused, if it is. The flood limit comes first and holds for
        every source: a stranger past it still gets 403 (nothing about us it could use),
        counted as a flood, with no log line or event per INVITE."""
        flooding = not self._flood.allow(source)
        if flooding and self._first_in_a_minute(("flood", source)):
            log.warning("INVITE flood from %s: refusing beyond the per-source rate", source)
        try:
            allowed = self._settings.allows(source)
        except ValueError:
            allowed = False
        if not allowed:
            return ("flood" if flooding else "trunk", 403)
        if flooding:
            return ("flood", 503)
        if not self._accepting:
            return ("shutdown", 503)
        if identity.request_user(message) != self._settings.hotline_user:
            return ("not_found", 404)
        inbound = sum(1 for leg in self._legs.values() if leg.inbound)
        if inbound >= self._settings.max_calls:
            return ("capacity", 503)
        return None

    def _first_in_a_minute(self, key: tuple[str, str]) -> bool:
        now = time.monotonic()
        if now - self._logged.get(key, -60.0) < 60.0:
            return False
        if len(self._logged) > 10_000:  # many sources: forget, as the flood guard does
            self._logged.clear()
        self._logged[key] = now
        return True

    def _authenticate(
        self, source: str, message: str
    ) -> tuple[tuple[str, int] | None, dict[str, str]]:
        """Digest authentication of a trunk with credentials: 401 with a challenge, 403 for a
        wrong answer to one, or None (and the call goes on). The answer to a 401 is a new
        INVITE, hence a new incoming call here."""
        trunk = self._settings.trunk_for(source)
        credentials = trunk.credentials(self._settings.auth_realm) if trunk else None
        if trunk is None or credentials is None:
            return None, {}
        authorizations = identity.headers(message).get("authorization", [])
        verdict = self._digest.judge(authorizations, "INVITE", credentials)
        if verdict is Verdict.ACCEPTED:
            return None, {}
        if verdict is Verdict.WRONG:
            log.warning(
                "refused SIP INVITE from %s: wrong digest credentials for trunk %s",
                source,
                trunk.name,
            )
            return ("auth", 403), {}
        challenge = self._digest.challenge(credentials.realm, stale=verdict is Verdict.STALE)
        return ("challenge", 401), {"WWW-Authenticate": challenge}

    def _respond(self, call: _Call, code: int, headers: dict[str, str] | None = None) -> None:
        op = pj.CallOpParam()
        op.statusCode = code
        for name, value in (headers or {}).items():
            header = pj.SipHeader()
            header.hName, header.hValue = name, value
            op.txOption.headers.append(header)
        # answer() also sends final error responses, and unlike hangup() it keeps our headers.
        call.answer(op)

    # ----- commands ------------------------------------------------------------------

    def _drain_commands(self) -> None:
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return
            try:
                self._execute(command)
            except pj.Error as exc:
                # One failed command (a leg that just hung up) must not stop the bridge.
                log.warning("SIP command %r failed: %s: %s", command, exc.title, exc.reason)
                self._after_failed_command(command)
            except Exception:
                log.exception("SIP command %r failed", command)

    def _execute(self, command: m.Command) -> None:
        if isinstance(command, m.Dial):
            self._dial(command)
            return
        leg = self._legs.get(command.leg_a if isinstance(command, m.Connect) else command.leg_id)
        if leg is None:
            log.debug("command for a leg already gone: %r", command)
            return
        if isinstance(command, m.Monitor):
            self._monitor(command)
        elif leg.call is None:
            if self._browser_command(leg, command):
                return
        elif isinstance(command, m.Answer):
            self._respond(leg.call, 200)
        elif isinstance(command, m.Progress):
            self._respond(leg.call, 183)  # PJSIP puts its SDP answer in a 183, not a 180
        elif isinstance(command, m.SendDtmf):
            self._send_dtmf(leg.call, command.digits)
        elif isinstance(command, m.PlayPrompt):
            self._serial += 1
            self._want(leg, ("prompt", command.paths, command.tag, self._serial))
        elif isinstance(command, m.StopPrompt):
            if leg.wanted is not None and leg.wanted[0] == "prompt":
                self._want(leg, None)
        elif isinstance(command, m.PlayMusic):
            self._want(leg, ("music",))
        elif isinstance(command, m.Connect):
            other = self._legs.get(command.leg_b)
            if other is None:
                return
            self._want(leg, ("peer", other.leg_id))
            self._want(other, ("peer", leg.leg_id))
        elif isinstance(command, m.Hangup) and leg.call is not None:
            op = pj.CallOpParam()
            op.statusCode = command.status_code
            leg.call.hangup(op)
        elif isinstance(command, m.Refer):
            log.info("leg %s: REFER to %s", leg.leg_id, command.uri)
            leg.call.xfer(command.uri, pj.CallOpParam(True))

    def _after_failed_command(self, command: m.Command) -> None:
        """A leg we could not answer must not linger: end it, or at least forget it. A REFER
        that could not be sent is a failed transfer."""
        if isinstance(command, m.Refer):
            self._emit(m.ReferFailed(command.leg_id, 500, "REFER not sent"))
            return
        if not isinstance(command, m.Answer):
            return
        leg = self._legs.get(command.leg_id)
        if leg is None or leg.call is None:
            return
        op = pj.CallOpParam()
        op.statusCode = 500
        try:
            leg.call.hangup(op)
        except pj.Error:
            del self._legs[leg.leg_id]
            self._emit(m.LegEnded(leg.leg_id, 500, "could not answer", False, leg.media))

    def _dial(self, command: m.Dial) -> None:
        if command.uri.startswith(m.BROWSER_URI_PREFIX):
            # Rings on the console (the ACD's offer) until Answer or Hangup.
            self._legs[command.leg_id] = _Leg(command.leg_id, None, inbound=False)
            return
        call = _Call(self, self._account)
        call.leg_id = command.leg_id
        leg = _Leg(command.leg_id, call, inbound=False)
        self._legs[command.leg_id] = leg
        self._calls.append(call)
        op = pj.CallOpParam(True)
        header = pj.SipHeader()
        header.hName, header.hValue = "X-Hotline-Caller", command.caller or "unknown"
        op.txOption.headers.append(header)
        try:
            call.makeCall(command.uri, op)
        except pj.Error as exc:
            log.warning("could not dial %s: %s", command.uri, exc.reason)
            del self._legs[command.leg_id]
            self._calls.remove(call)
            self._graveyard.append(call)
            self._emit(m.LegEnded(command.leg_id, 500, "dial failed", False))

    def _send_dtmf(self, call: _Call, digits: str) -> None:
        param = pj.CallSendDtmfParam()
        param.digits = digits
        param.method = pj.PJSUA_DTMF_METHOD_RFC2833
        try:
            call.sendDtmf(param)
        except pj.Error:  # the far end's SDP has no telephone-event
            param.method = pj.PJSUA_DTMF_METHOD_SIP_INFO
            call.sendDtmf(param)

    # ----- supervision (listen, whisper, barge) --------------------------------------

    def _monitor(self, command: m.Monitor) -> None:
        monitor = self._monitors.get(command.leg_id)
        if monitor is None:
            monitor = self._monitors[command.leg_id] = _Monitor(command)
        monitor.command = command
        log.info(
            "leg %s monitors %s / %s: %s",
            command.leg_id,
            command.caller_leg,
            command.agent_leg,
            command.mode,
        )
        self._wire_monitor(monitor)

    def _wire_monitor(self, monitor: _Monitor) -> None:
        """Make the one-way links match the mode, for the legs whose media is up. The
        caller's and the agent's own connection (`wanted` "peer") is never touched."""
        wanted: set[tuple[str, str]] = set()
        for source, listener in monitor.command.links():
            if self._ports(source, listener) is not None:
                wanted.add((source, listener))
        for source, listener in monitor.links - wanted:
            ports = self._ports(source, listener)
            if ports is not None:
                with contextlib.suppress(pj.Error):
                    ports[0].stopTransmit(ports[1])
        for source, listener in wanted - monitor.links:
            ports = self._ports(source, listener)
            assert ports is not None
            ports[0].startTransmit(ports[1])
        monitor.links = wanted

    def _ports(self, source: str, listener: str) -> tuple[Any, Any] | None:
        a, b = self._legs.get(source), self._legs.get(listener)
        if a is None or b is None or a.audio is None or b.audio is None:
            return None
        return a.audio, b.audio

    def _unwire(self, leg_id: str) -> None:
        """The leg's bridge port is new, or gone with the leg: its monitor links went with
        the old port; make them again where they can be. A supervisor's leg that is gone
        ends its supervision."""
        for supervisor, monitor in list(self._monitors.items()):
            command = monitor.command
            if leg_id not in (command.leg_id, command.caller_leg, command.agent_leg):
                continue
            if leg_id == supervisor and leg_id not in self._legs:
                del self._monitors[supervisor]
                continue
            monitor.links = {link for link in monitor.links if leg_id not in link}
            self._wire_monitor(monitor)

    # ----- browser legs (agents whose phone is the console) --------------------------

    def _browser_command(self, leg: _Leg, command: m.Command) -> bool:
        """Answer and Hangup of a browser leg; False: routed like any leg (Connect...)."""
        if isinstance(command, m.Answer):
            if leg.answered:
                return True
            # The console accepted: a port joins the bridge, fed by its audio socket.
            leg.audio = open_port(self.browser_audio.open(leg.leg_id, self._loop))
            leg.answered = True
            self._emit(m.LegAnswered(leg.leg_id))
            self._apply_audio(leg)
            for other in self._legs.values():
                if other.wanted == ("peer", leg.leg_id):
                    other.playing = None
                    self._apply_audio(other)
            return True
        if isinstance(command, m.Hangup):
            self._end_browser_leg(leg, 200 if leg.answered else command.status_code, "hangup")
            return True
        return isinstance(command, m.SendDtmf)  # keys go to the caller's leg, not here

    def _end_browser_leg(self, leg: _Leg, status_code: int, reason: str) -> None:
        self._silence(leg)
        for monitor in self._monitors.values():
            for source, listener in [link for link in monitor.links if leg.leg_id in link]:
                ports = self._ports(source, listener)
                if ports is not None:  # the port leaves the bridge after this poll
                    with contextlib.suppress(pj.Error):
                        ports[0].stopTransmit(ports[1])
        for other in self._legs.values():
            if other.playing == ("peer", leg.leg_id):
                self._silence(other)  # stops the port's transmission to the other leg
        self._legs.pop(leg.leg_id, None)
        self._unwire(leg.leg_id)
        if leg.audio is not None:
            # The last reference goes after this poll: pjsua2 then takes it off the bridge.
            self._graveyard.append(leg.audio)
            leg.audio = None
        self.browser_audio.close(leg.leg_id)
        self._emit(m.LegEnded(leg.leg_id, status_code, reason, leg.answered, leg.media))

    # ----- audio routing -------------------------------------------------------------

    def _want(self, leg: _Leg, source: tuple[Any, ...] | None) -> None:
        leg.wanted = source
        self._apply_audio(leg)

    def _apply_audio(self, leg: _Leg) -> None:
        """Make what the leg hears match what was asked, once its media is up."""
        if leg.audio is None or leg.playing == leg.wanted:
            return
        self._silence(leg)
        wanted = leg.wanted
        if wanted is None:
            return
        if wanted[0] == "prompt":
            _, paths, _, serial = wanted
            player = _Player(self, leg.leg_id, serial)
            if len(paths) == 1:
                player.createPlayer(str(paths[0]), pj.PJMEDIA_FILE_NO_LOOP)
            else:
                names = pj.StringVector([str(p) for p in paths])
                player.createPlaylist(names, "prompts", pj.PJMEDIA_FILE_NO_LOOP)
            player.startTransmit(leg.audio)
            leg.player = player
        elif wanted[0] == "music":
            self._music.startTransmit(leg.audio)
        elif wanted[0] == "peer":
            peer = self._legs.get(wanted[1])
            if peer is None or peer.audio is None:
                return  # connected when the peer's media comes up
            peer.audio.startTransmit(leg.audio)
        leg.playing, leg.playing_since = wanted, time.monotonic()

    def _silence(self, leg: _Leg) -> None:
        # The last frame mixed before the source goes is still that source's: a short
        # hold has at least this reading of its music.
        self._read_level(leg, time.monotonic())
        playing, leg.playing = leg.playing, None
        if playing is None or leg.audio is None:
            return
        source: Any = None
        if playing[0] == "prompt":
            source = leg.player
            if leg.player is not None:
                self._park_player(leg.player)
                leg.player = None
        elif playing[0] == "music":
            source = self._music
        elif playing[0] == "peer":
            peer = self._legs.get(playing[1])
            source = peer.audio if peer is not None else None
        if source is not None:
            # Either port may already have left the bridge with its call.
            with contextlib.suppress(pj.Error):
                source.stopTransmit(leg.audio)

    def _park_player(self, player: Any) -> None:
        """Keep a player that no longer feeds its leg alive a little longer (see
        PLAYER_GRACE_SECONDS); it transmits to nothing meanwhile."""
        self._parked_players.append((time.monotonic() + PLAYER_GRACE_SECONDS, player))

    def _drain_eof(self) -> None:
        while True:
            try:
                leg_id, serial = self._eof.get_nowait()
            except queue.Empty:
                return
            leg = self._legs.get(leg_id)
            playing = leg.playing if leg is not None else None
            if leg is None or playing is None or playing[0] != "prompt" or playing[3] != serial:
                continue  # a prompt that was replaced or cut short: nobody waits for it
            self._silence(leg)
            leg.wanted = None
            self._emit(m.PromptFinished(leg_id, playing[2]))

    # ----- pjsua2 callbacks ----------------------------------------------------------

    def _on_media_state(self, call: _Call) -> None:
        leg = self._legs.get(call.leg_id or "")
        if leg is None:
            return
        info = call.getInfo()
        audio = None
        index: int | None = None
        held: str | None = None
        for media in info.media:
            if media.type != pj.PJMEDIA_TYPE_AUDIO:
                continue
            if media.status == pj.PJSUA_CALL_MEDIA_ACTIVE:
                audio, index = call.getAudioMedia(media.index), int(media.index)
                break
            if media.status == pj.PJSUA_CALL_MEDIA_REMOTE_HOLD:
                # Our direction is the mirror of the offer: recvonly answers sendonly.
                held = "sendonly" if media.dir == pj.PJMEDIA_DIR_DECODING else "inactive"
                index = int(media.index)
                break
        self._track_hold(leg, index, held)
        if audio is not None and leg.audio is not None and not leg.stream_replaced:
            # A re-INVITE that left the stream as it was (a session refresh): what the
            # party hears goes on; a prompt must not start over.
            log.debug("leg %s: media renegotiated, stream unchanged", leg.leg_id)
            return
        leg.stream_replaced = False
        # The stream and its bridge port are new (hold, resume, codec change), or gone:
        # the old port took every connection with it, so connect afresh, both ways.
        if leg.player is not None:
            self._park_player(leg.player)
            leg.player = None
        if leg.wanted is not None and leg.wanted[0] == "prompt":
            # The prompt starts over with a new player; the old one's end is not its end.
            self._serial += 1
            leg.wanted = (*leg.wanted[:3], self._serial)
        leg.audio, leg.playing = audio, None
        self._apply_audio(leg)
        for other in self._legs.values():
            if other.wanted == ("peer", leg.leg_id):
                other.playing = None
                self._apply_audio(other)  # waits while this leg has no audio (held)
        self._unwire(leg.leg_id)

    def _track_hold(self, leg: _Leg, index: int | None, held: str | None) -> None:
        """Report hold and resume by the far end; either restarts the RTP silence clock."""
        now = time.monotonic()
        if index != leg.audio_index:
            leg.audio_index, leg.rx_packets, leg.rx_seen_at = index, 0, now
        was_held, leg.held = leg.held, held
        if held == was_held:
            return
        leg.rx_seen_at = now
        if held is not None:
            log.info("leg %s put on hold by the far end (%s)", leg.leg_id, held)
            self._emit(m.LegHeld(leg.leg_id, held))
        else:
            log.info("leg %s taken off hold by the far end", leg.leg_id)
            self._emit(m.LegResumed(leg.leg_id))

    def _on_transfer_status(self, call: _Call, prm: Any) -> None:
        """REFER progress: 202 then NOTIFYs with the target's answers (sipfrag). The first
        final answer decides; later NOTIFYs are not wanted."""
        if call.leg_id is None or call.leg_id not in self._legs:
            return
        code, final = int(prm.statusCode), bool(prm.finalNotify)
        log.info(
            "leg %s: transfer status %d %s%s",
            call.leg_id,
            code,
            prm.reason,
            " (final)" if final else "",
        )
        if 200 <= code < 300 and (final or code != 202):
            prm.cont = False
            self._emit(m.ReferSucceeded(call.leg_id, code))
        elif code >= 300 or final:
            prm.cont = False
            self._emit(m.ReferFailed(call.leg_id, code, identity.lenient(str(prm.reason))))

    def _check_rtp(self, now: float) -> None:
        """Hang up answered legs whose RTP stopped: a peer that vanished without BYE would
        otherwise hold a slot (and an agent) for ever. Held legs are expected to be quiet."""
        limit = self._settings.rtp_timeout_seconds
        if limit <= 0:
            return
        for leg in list(self._legs.values()):
            if not leg.answered or leg.audio_index is None or leg.held is not None:
                continue
            if leg.call is None:
                continue
            if leg.end_reason is not None:
                continue  # already hung up, waiting for PJSIP to finish
            try:
                stat = leg.call.getStreamStat(leg.audio_index)
            except pj.Error:
                continue  # no stream (being re-negotiated): nothing to judge
            packets = int(stat.rtcp.rxStat.pkt)
            if packets != leg.rx_packets:
                leg.rx_packets, leg.rx_seen_at = packets, now
            elif now - leg.rx_seen_at >= limit:
                self._rtp_timed_out(leg, now - leg.rx_seen_at)

    def _rtp_timed_out(self, leg: _Leg, silent: float) -> None:
        log.warning("leg %s: no RTP for %.1f s; hanging up", leg.leg_id, silent)
        leg.end_reason = m.RTP_TIMEOUT_REASON
        self._emit(m.RtpTimedOut(leg.leg_id, round(silent, 1)))
        try:
            if leg.call is not None:
                leg.call.hangup(pj.CallOpParam())
        except pj.Error as exc:
            # Already ending: its DISCONNECTED callback still reports the leg.
            log.warning("hang-up of silent leg %s failed: %s", leg.leg_id, exc.reason)

    def _on_stream_created(self, call: _Call) -> None:
        leg = self._legs.get(call.leg_id or "")
        if leg is not None:
            leg.stream_replaced = True

    def _on_stream_destroyed(self, call: _Call, index: int) -> None:
        leg = self._legs.get(call.leg_id or "")
        if leg is None:
            return
        leg.stream_replaced = True
        try:
            stat = call.getStreamStat(index)
        except Exception:
            return
        leg.media["rx_packets"] = int(stat.rtcp.rxStat.pkt)
        leg.media["tx_packets"] = int(stat.rtcp.txStat.pkt)

    def _on_call_state(self, call: _Call) -> None:
        info = call.getInfo()
        leg = self._legs.get(call.leg_id or "")
        if info.state == pj.PJSIP_INV_STATE_CONFIRMED and leg is not None and not leg.answered:
            leg.answered = True
            self._emit(m.LegAnswered(leg.leg_id))
        if info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self._forget(call, int(info.lastStatusCode), identity.lenient(str(info.lastReason)))

    def _forget(self, call: _Call, status_code: int, reason: str) -> None:
        """PJSIP is done with the call: release our references and report the leg's end."""
        if call not in self._calls:
            return
        self._calls.remove(call)
        self._graveyard.append(call)
        leg = self._legs.pop(call.leg_id or "", None)
        if leg is None:
            return
        # PJSIP has already taken the call's port off the bridge: only drop our references.
        if leg.player is not None:
            self._park_player(leg.player)
        leg.player = leg.audio = leg.playing = None
        for other in self._legs.values():
            if other.playing == ("peer", leg.leg_id):
                other.playing = None
        self._unwire(leg.leg_id)
        reason = leg.end_reason or reason
        self._emit(m.LegEnded(leg.leg_id, status_code, reason, leg.answered, leg.media))

    def _reap_dead_calls(self) -> None:
        """Under overload PJSIP can end an INVITE session without a DISCONNECTED callback
        reaching us (seen when a caller gives up while its answer is pending); such a
        call would hold a capacity slot for ever."""
        for call in list(self._calls):
            if not call.isActive():
                self._forget(call, 487, "session ended without notice")

    # ----- tear-down -----------------------------------------------------------------

    def _shutdown_calls(self) -> None:
        """BYE to every answered leg, CANCEL or 503 to the others, then wait for PJSIP."""
        for leg in list(self._legs.values()):
            if leg.call is None:
                self._end_browser_leg(leg, 503, "shutdown")
                continue
            op = pj.CallOpParam()
            op.statusCode = 503 if leg.inbound and not leg.answered else 603
            try:
                leg.call.hangup(op)
            except Exception:
                log.exception("hang-up of %s failed during shutdown", leg.leg_id)
        deadline = getattr(self, "_stop_deadline", time.monotonic() + 3.0)
        while self._calls and time.monotonic() < deadline:
            self._drain_eof()
            self._ep.libHandleEvents(POLL_MS)
            self._graveyard.clear()
            self._reap_dead_calls()
        if self._calls:
            states = []
            for call in self._calls:
                try:
                    info = call.getInfo()
                    states.append(f"{call.leg_id}:{info.stateText}:{info.lastStatusCode}")
                except pj.Error as exc:
                    states.append(f"{call.leg_id}:gone:{exc.reason}")
            log.warning("%d calls still up at shutdown: %s", len(self._calls), states[:10])

    def _destroy_library(self) -> None:
        if self._ep is None:
            return
        # Ports first (players), then calls, then the account and the library.
        for leg in self._legs.values():
            leg.player = None
            leg.audio = None
        self._music = None
        self._monitors.clear()
        self._legs.clear()
        self._parked_players.clear()
        self._graveyard.clear()
        self._calls.clear()
        self._account = None
        gc.collect()  # wrappers in reference cycles must die while the library still lives
        try:
            self._ep.libDestroy()
        except Exception:
            log.exception("libDestroy failed")
        self._ep = None
