"""ACD metrics: counters fed by events, queue and agent gauges read at scrape time.

Counters and the wait histogram must see every event, so they subscribe to the bus.
Gauges describe the present, so they are read from the ACD in memory when Prometheus
scrapes: nothing to keep in sync, and the scrape never waits on I/O.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from callcenter.acd import events as ev
from callcenter.acd.acd import Acd
from callcenter.acd.model import AgentState
from callcenter.clock import Clock

#: Pickup latency buckets; 20 s is the usual service-level threshold, so it is a bound.
QUEUE_WAIT_BUCKETS = (1, 2, 5, 10, 15, 20, 25, 30, 45, 60, 90, 120, 180, 300)

#: The service-level window exported, as the `window` label says.
SERVICE_LEVEL_WINDOW_SECONDS = 3600.0
SERVICE_LEVEL_WINDOW_LABEL = "1h"


class AcdMetrics:
    """Subscribe `on_event` to the bus for `AcdEvent`; the collector registers itself."""

    def __init__(self, registry: CollectorRegistry, acd: Acd, clock: Clock) -> None:
        self.offered = Counter(
            "callcenter_calls_offered_total",
            "Calls that entered a queue.",
            ["queue"],
            registry=registry,
        )
        self.answered = Counter(
            "callcenter_calls_answered_total",
            "Queued calls an agent answered.",
            ["queue"],
            registry=registry,
        )
        self.abandoned = Counter(
            "callcenter_calls_abandoned_total",
            "Queued calls the caller hung up before an agent answered.",
            ["queue"],
            registry=registry,
        )
        self.queue_wait = Histogram(
            "callcenter_queue_wait_seconds",
            "Pickup latency: from entering the queue to an agent answering.",
            ["queue"],
            buckets=QUEUE_WAIT_BUCKETS,
            registry=registry,
        )
        # Every configured queue shows 0 before its first call, so rate() and alerts work.
        for queue in acd.queue_names:
            for metric in (self.offered, self.answered, self.abandoned, self.queue_wait):
                metric.labels(queue=queue)
        registry.register(AcdCollector(acd, clock))

    def on_event(self, event: ev.AcdEvent) -> None:
        match event:
            case ev.CallEnqueued(queue=queue):
                self.offered.labels(queue=queue).inc()
            case ev.CallAnswered(queue=queue, wait_seconds=wait):
                self.answered.labels(queue=queue).inc()
                self.queue_wait.labels(queue=queue).observe(wait)
            case ev.CallAbandoned(queue=queue):
                self.abandoned.labels(queue=queue).inc()
            case _:
                pass


class AcdCollector:
    """Queue and agent gauges computed from the ACD's memory during the scrape.

    The ACD is not thread-safe: scrape from the event loop (the API's /metrics handler),
    never from prometheus_client's own HTTP server thread.
    """

    def __init__(self, acd: Acd, clock: Clock) -> None:
        self._acd = acd
        self._clock = clock

    def describe(self) -> Iterable[Metric]:
        """Names only, so the registry can refuse a duplicate without collecting."""
        return list(_families())

    def collect(self) -> Iterable[Metric]:
        waiting, longest, agents, level, target = families = _families()
        now = self._clock.now()
        for queue in self._acd.queue_names:
            snapshot = self._acd.snapshot(queue)
            waiting.add_metric([queue], snapshot.waiting)
            longest.add_metric([queue], snapshot.longest_wait_seconds)
            for state in AgentState:
                agents.add_metric([queue, state.value], snapshot.agents.get(state, 0))
            figures = self._acd.statistics(queue).window(now, SERVICE_LEVEL_WINDOW_SECONDS)
            if figures.service_level is not None:  # no counted call: no sample, not 100%
                level.add_metric([queue, SERVICE_LEVEL_WINDOW_LABEL], figures.service_level)
            target.add_metric([queue], snapshot.service_level_target)
        return families


def _families() -> tuple[
    GaugeMetricFamily, GaugeMetricFamily, GaugeMetricFamily, GaugeMetricFamily, GaugeMetricFamily
]:
    return (
        GaugeMetricFamily(
            "callcenter_queue_waiting_calls",
            "Calls in the queue not yet connected to an agent (waiting or ringing).",
            labels=["queue"],
        ),
        GaugeMetricFamily(
            "callcenter_queue_longest_wait_seconds",
            "How long the longest-waiting call of the queue has waited.",
            labels=["queue"],
        ),
        GaugeMetricFamily(
            "callcenter_agents",
            "Agents serving the queue, by state.",
            labels=["queue", "state"],
        ),
        GaugeMetricFamily(
            "callcenter_service_level_ratio",
            "Answered within the threshold over answered plus long abandons, in the window.",
            labels=["queue", "window"],
        ),
        GaugeMetricFamily(
            "callcenter_service_level_target_ratio",
            "The service level the queue aims for.",
            labels=["queue"],
        ),
    )
