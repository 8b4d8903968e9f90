from __future__ import annotations

import datetime as dt

from prometheus_client import CollectorRegistry

from callcenter.clock import ManualClock
from callcenter.events import EventBus
from callcenter.ivr.events import IvrFinished, IvrOutcome
from callcenter.ivr.hours import BusinessHours
from callcenter.metrics.ivr_metrics import IvrMetrics

ALWAYS = {"main": BusinessHours(always=True)}


def test_outcomes_are_counted_and_start_at_zero() -> None:
    registry, bus = CollectorRegistry(), EventBus()
    bus.subscribe(IvrFinished, IvrMetrics(registry, ALWAYS, ManualClock(0.0)).on_event)
    for outcome in IvrOutcome:
        assert registry.get_sample_value("callcenter_ivr_outcomes_total", {"outcome": outcome}) == 0
    bus.publish(IvrFinished(1.0, "c1", IvrOutcome.QUEUED))
    bus.publish(IvrFinished(2.0, "c2", IvrOutcome.CALLER_HANGUP))
    bus.publish(IvrFinished(3.0, "c3", IvrOutcome.QUEUED))
    value = registry.get_sample_value
    assert value("callcenter_ivr_outcomes_total", {"outcome": "queued"}) == 2
    assert value("callcenter_ivr_outcomes_total", {"outcome": "caller_hangup"}) == 1
    assert value("callcenter_ivr_outcomes_total", {"outcome": "flow_hangup"}) == 0


def test_service_hours_follow_each_flows_calendar_at_scrape_time() -> None:
    office = BusinessHours(
        timezone="Asia/Shanghai",
        weekly={d: ((8 * 60 + 30, 17 * 60 + 30),) for d in range(5)},
        holidays={dt.date(2026, 10, 1): "National Day"},
    )
    registry = CollectorRegistry()
    clock = ManualClock(dt.datetime(2026, 11, 27, 9, 0, tzinfo=office.zone).timestamp())  # Friday
    IvrMetrics(registry, {"main": office, "outages": BusinessHours(always=True)}, clock)

    def open_now(flow: str) -> float | None:
        return registry.get_sample_value("callcenter_in_service_hours", {"flow": flow})

    assert (open_now("main"), open_now("outages")) == (1, 1)
    clock.advance(9 * 3600)  # 18:00
    assert (open_now("main"), open_now("outages")) == (0, 1)
    clock.advance(39 * 3600)  # Sunday 09:00
    assert open_now("main") == 0
    clock.set(dt.datetime(2026, 10, 1, 10, 0, tzinfo=office.zone).timestamp())  # a holiday
    assert open_now("main") == 0
