"""SIP bridge metrics, updated by plain method calls from the bridge.

Label values come from small fixed sets, so a hostile or broken peer cannot grow the
number of time series.
"""

from __future__ import annotations

import enum

from prometheus_client import CollectorRegistry, Counter, Gauge


class RefusalReason(enum.StrEnum):
    TRUNK = "trunk"  # the source address is not on a configured trunk
    SHUTDOWN = "shutdown"  # the process is draining calls before it stops
    CAPACITY = "capacity"  # sip.max_calls calls are already up
    FLOOD = "flood"  # the source sent INVITEs faster than sip.invite_rate_per_source
    NOT_FOUND = "not_found"  # the INVITE was not for the hotline user
    CHALLENGE = "challenge"  # 401: a trunk with credentials must authenticate (normal)
    AUTH = "auth"  # 403: wrong digest credentials in answer to a challenge
    OTHER = "other"  # a reason this list does not know yet: counted, never a new series


_REASONS = frozenset(r.value for r in RefusalReason)

#: Final-response classes of an INVITE; anything else is counted as "other".
RESPONSE_CLASSES = ("2xx", "3xx", "4xx", "5xx", "6xx")


class BridgeMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self._active = Gauge(
            "callcenter_sip_active_calls",
            "SIP calls currently up on the bridge.",
            registry=registry,
        )
        self._invites = Counter(
            "callcenter_sip_invites_total",
            "Incoming INVITEs by the class of the final response sent.",
            ["response_class"],
            registry=registry,
        )
        self._capacity = Counter(
            "callcenter_sip_capacity_rejections_total",
            "INVITEs turned away because sip.max_calls calls were already up.",
            registry=registry,
        )
        self._refused = Counter(
            "callcenter_sip_refused_total",
            "INVITEs refused before reaching the IVR, by reason.",
            ["reason"],
            registry=registry,
        )
        self._rtp_timeouts = Counter(
            "callcenter_sip_rtp_timeouts_total",
            "Call legs hung up because no RTP arrived for sip.rtp_timeout_seconds.",
            registry=registry,
        )
        for response_class in RESPONSE_CLASSES:
            self._invites.labels(response_class=response_class)
        for reason in RefusalReason:
            self._refused.labels(reason=reason.value)

    def set_active_calls(self, count: int) -> None:
        self._active.set(count)

    def invite_answered(self, status_code: int) -> None:
        """Count an INVITE by the final status code the bridge answered it with."""
        self._invites.labels(response_class=response_class(status_code)).inc()

    def refused(self, reason: RefusalReason | str) -> None:
        """Count one refused INVITE; a capacity refusal also counts as a capacity rejection."""
        label = RefusalReason(reason) if reason in _REASONS else RefusalReason.OTHER
        self._refused.labels(reason=label.value).inc()
        if label is RefusalReason.CAPACITY:
            self._capacity.inc()

    def rtp_timed_out(self) -> None:
        """Count one leg the bridge hung up for silence (softphone_bridge RtpTimedOut)."""
        self._rtp_timeouts.inc()


def response_class(status_code: int) -> str:
    label = f"{status_code // 100}xx"
    return label if label in RESPONSE_CLASSES else "other"
