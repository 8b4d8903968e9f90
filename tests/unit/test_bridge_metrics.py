"""The SIP bridge's counters, fed by plain method calls."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from callcenter.metrics.bridge_metrics import BridgeMetrics


def test_rtp_timeouts_are_counted_from_zero() -> None:
    registry = CollectorRegistry()
    metrics = BridgeMetrics(registry)
    assert registry.get_sample_value("callcenter_sip_rtp_timeouts_total") == 0
    metrics.rtp_timed_out()
    metrics.rtp_timed_out()
    assert registry.get_sample_value("callcenter_sip_rtp_timeouts_total") == 2
