"""The bridge's vocabulary: commands the asyncio side sends, events the owner thread returns.

Leg ids are ours (UUID strings), never pjsua2 call ids, which PJSIP reuses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

# ----- commands (asyncio -> pjsua2 thread) --------------------------------------------


@dataclass(frozen=True)
class Answer:
    leg_id: str


@dataclass(frozen=True)
class Progress:
    """183 Session Progress with SDP: the leg has media (early media) before the answer."""

    leg_id: str


@dataclass(frozen=True)
class PlayPrompt:
    """Play files one after the other, once; PromptFinished(tag) follows at the end."""

    leg_id: str
    paths: tuple[Path, ...]
    tag: str


@dataclass(frozen=True)
class StopPrompt:
    """Cut the prompt short (the caller pressed a key); no PromptFinished follows."""

    leg_id: str


@dataclass(frozen=True)
class PlayMusic:
    """Loop music on hold to the leg until something else is connected to it."""

    leg_id: str


#: An agent `sip_uri` starting so has no phone: the console is its softphone. A Dial to
#: it opens a browser leg (a bridge port fed by the console's audio WebSocket) that rings
#: until an Answer (the console's accept) or a Hangup.
BROWSER_URI_PREFIX = "browser:"


@dataclass(frozen=True)
class Dial:
    """Place an outbound leg (an agent's phone, or a browser leg: BROWSER_URI_PREFIX)."""

    leg_id: str
    uri: str
    caller: str


@dataclass(frozen=True)
class Connect:
    """Bridge two legs' audio both ways; whatever played to them stops."""

    leg_a: str
    leg_b: str


@dataclass(frozen=True)
class Hangup:
    """End a leg: BYE when up, CANCEL when ringing out, a final response when ringing in."""

    leg_id: str
    status_code: int = 603


@dataclass(frozen=True)
class Refer:
    """Blind-transfer the far end of the leg to `uri` (REFER); ReferSucceeded or ReferFailed
    follows. The leg stays up either way: the asyncio side ends it on success."""

    leg_id: str
    uri: str


@dataclass(frozen=True)
class SendDtmf:
    """Send keys to the leg's far end: RFC 4733 when its SDP has telephone-event, else
    SIP INFO (application/dtmf-relay)."""

    leg_id: str
    digits: str


#: Who hears whom in each supervision mode, besides the caller and the agent hearing
#: each other: (speaker, listener) roles.
MONITOR_WIRING: dict[str, frozenset[tuple[str, str]]] = {
    "listen": frozenset({("caller", "supervisor"), ("agent", "supervisor")}),
    "whisper": frozenset(
        {("caller", "supervisor"), ("agent", "supervisor"), ("supervisor", "agent")}
    ),
    "barge": frozenset(
        {
            ("caller", "supervisor"),
            ("agent", "supervisor"),
            ("supervisor", "agent"),
            ("supervisor", "caller"),
        }
    ),
}


@dataclass(frozen=True)
class Monitor:
    """Wire the supervisor's answered leg (`leg_id`) into a caller-agent call, one way per
    pair as `mode` says (MONITOR_WIRING). Sent again with another mode, it rewires; the
    caller-agent bridging is left alone. Ends with the supervisor's leg (Hangup)."""

    leg_id: str
    caller_leg: str
    agent_leg: str
    mode: str  # "listen", "whisper" or "barge"

    def links(self) -> frozenset[tuple[str, str]]:
        """(source leg, listener leg) pairs: the source's audio is sent to the listener."""
        legs = {"caller": self.caller_leg, "agent": self.agent_leg, "supervisor": self.leg_id}
        return frozenset((legs[a], legs[b]) for a, b in MONITOR_WIRING[self.mode])


Command = (
    Answer
    | Progress
    | PlayPrompt
    | StopPrompt
    | PlayMusic
    | Dial
    | Connect
    | Hangup
    | Refer
    | SendDtmf
    | Monitor
)

# ----- events (pjsua2 thread -> asyncio) ----------------------------------------------


@dataclass(frozen=True)
class BridgeStarted:
    version: str
    max_calls: int


@dataclass(frozen=True)
class InboundCall:
    leg_id: str
    sip_call_id: str
    caller_user: str | None
    caller_display: str | None
    source: str


@dataclass(frozen=True)
class CallRefused:
    """An INVITE we turned away; reason is one of a bounded set (metrics label)."""

    #: "trunk", "flood", "not_found", "capacity", "shutdown"; "challenge" (401 to a trunk
    #: that must authenticate), "auth" (403: wrong digest credentials).
    reason: str
    status_code: int
    source: str
    sip_call_id: str | None = None
    caller_user: str | None = None


@dataclass(frozen=True)
class LegAnswered:
    leg_id: str


@dataclass(frozen=True)
class PromptFinished:
    leg_id: str
    tag: str


@dataclass(frozen=True)
class DtmfReceived:
    """A key the caller pressed: RFC 4733 telephone-event or SIP INFO (dtmf-relay)."""

    leg_id: str
    digit: str
    method: str  # "rfc4733" or "sip_info"


@dataclass(frozen=True)
class LegHeld:
    """The far end put the leg on hold (re-INVITE with a=sendonly or a=inactive).

    The bridge answered recvonly or inactive, so the party hears nothing from us until
    LegResumed; the RTP timeout is paused meanwhile. The leg stays up.
    """

    leg_id: str
    direction: str  # what the far end offered: "sendonly" or "inactive"


@dataclass(frozen=True)
class LegResumed:
    """The far end took the leg off hold (sendrecv again); what it heard before resumes."""

    leg_id: str


@dataclass(frozen=True)
class RtpTimedOut:
    """No RTP arrived on the leg for sip.rtp_timeout_seconds: the bridge sent BYE.

    LegEnded (reason RTP_TIMEOUT_REASON) follows once PJSIP has ended the leg.
    """

    leg_id: str
    silent_seconds: float


#: LegEnded.reason of a leg the bridge hung up because its RTP stopped.
RTP_TIMEOUT_REASON = "RTP timeout"


@dataclass(frozen=True)
class LegEnded:
    leg_id: str
    status_code: int  # the last SIP status of the leg (486 busy, 408 timeout, 200 after BYE)
    reason: str
    was_answered: bool
    media: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ReferSucceeded:
    """The far end reached the REFER's target: a NOTIFY carried a 2xx sipfrag."""

    leg_id: str
    status_code: int


@dataclass(frozen=True)
class ReferFailed:
    """The REFER was rejected, or its NOTIFY reported a final non-2xx answer, or the REFER
    could not be sent at all; the leg is still up (unless LegEnded follows)."""

    leg_id: str
    status_code: int
    reason: str


BridgeEvent = (
    BridgeStarted
    | InboundCall
    | CallRefused
    | LegAnswered
    | PromptFinished
    | DtmfReceived
    | LegHeld
    | LegResumed
    | RtpTimedOut
    | LegEnded
    | ReferSucceeded
    | ReferFailed
)
