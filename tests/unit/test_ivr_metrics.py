from __future__ import annotations

from prometheus_client import CollectorRegistry

from callcenter.events import EventBus
from callcenter.ivr.events import IvrFinished, IvrOutcome
from callcenter.metrics.ivr_metrics import IvrMetrics


def test_outcomes_are_counted_and_start_at_zero() -> None:
    registry, bus = CollectorRegistry(), EventBus()
    bus.subscribe(IvrFinished, IvrMetrics(registry).on_event)
    for outcome in IvrOutcome:
        assert registry.get_sample_value("callcenter_ivr_outcomes_total", {"outcome": outcome}) == 0
    bus.publish(IvrFinished(1.0, "c1", IvrOutcome.QUEUED))
    bus.publish(IvrFinished(2.0, "c2", IvrOutcome.CALLER_HANGUP))
    bus.publish(IvrFinished(3.0, "c3", IvrOutcome.QUEUED))
    value = registry.get_sample_value
    assert value("callcenter_ivr_outcomes_total", {"outcome": "queued"}) == 2
    assert value("callcenter_ivr_outcomes_total", {"outcome": "caller_hangup"}) == 1
    assert value("callcenter_ivr_outcomes_total", {"outcome": "flow_hangup"}) == 0
