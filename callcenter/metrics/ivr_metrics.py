"""IVR outcomes: how many callers reach a queue, and how many give up in the menus.

Also whether the desk is open now (the IVR's business hours), so that alerts about nobody
answering hold only in service hours.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from callcenter.clock import Clock
from callcenter.ivr.events import IvrFinished, IvrOutcome
from callcenter.ivr.hours import BusinessHours


class IvrMetrics:
    """Subscribe `on_event` to the bus for `IvrFinished`; `hours` are each flow's."""

    def __init__(
        self,
        registry: CollectorRegistry,
        hours: Mapping[str, BusinessHours],
        clock: Clock,
    ) -> None:
        self.outcomes = Counter(
            "callcenter_ivr_outcomes_total",
            "Callers leaving the IVR, by how: queued, transferred, flow_hangup, caller_hangup.",
            ["outcome"],
            registry=registry,
        )
        for outcome in IvrOutcome:
            self.outcomes.labels(outcome=outcome.value)
        registry.register(ServiceHoursCollector(hours, clock))

    def on_event(self, event: IvrFinished) -> None:
        self.outcomes.labels(outcome=event.outcome.value).inc()


class ServiceHoursCollector:
    """`callcenter_in_service_hours{flow}`, read from each flow's business hours at scrape time."""

    def __init__(self, hours: Mapping[str, BusinessHours], clock: Clock) -> None:
        self._hours = hours
        self._clock = clock

    def collect(self) -> Iterator[Metric]:
        gauge = GaugeMetricFamily(
            "callcenter_in_service_hours",
            "1 while the IVR flow's business hours are open (working day, opening hours, no"
            " public holiday), else 0.",
            labels=["flow"],
        )
        now = self._clock.now()
        for flow, hours in self._hours.items():
            gauge.add_metric([flow], 1.0 if hours.is_open(now) else 0.0)
        yield gauge
