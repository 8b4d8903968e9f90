"""ACD metrics: counters fed by events, queue and agent gauges read at scrape time.

Counters and the wait histogram must see every event, so they subscribe to the bus.
Gauges describe the present, so they are read from the ACD in memory when Prometheus
scrapes: nothing to keep in sync, and the scrape never waits on I/O.

Every metric and how to aggregate it across processes is listed in docs/metrics.md.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from callcenter.acd import events as ev
from callcenter.acd.acd import Acd
from callcenter.acd.errors import UnknownAgent
from callcenter.acd.model import (
    LEAVE_QUEUE,
    AgentState,
    JoinEmpty,
    OverflowCause,
    OverflowKind,
    QueueSettings,
)
from callcenter.clock import Clock
from callcenter.planning.erlang import Workload, required_agents

#: Pickup latency buckets every queue gets; the thresholds of the configured queues add
#: theirs (see `queue_wait_buckets`).
QUEUE_WAIT_BUCKETS = (1, 2, 5, 10, 15, 20, 25, 30, 45, 60, 90, 120, 180, 300)

#: Bounds put this far either side of each service-level threshold, so the histogram tells
#: "just made it" from "just missed it".
THRESHOLD_MARGIN_SECONDS = 5.0

#: Windows of the service-level, ASA and AHT gauges: `window` label value, seconds.
#: The ACD keeps a day of outcomes, so 24h is the longest window it can answer.
FIGURE_WINDOWS: dict[str, float] = {"15m": 900.0, "1h": 3600.0, "24h": 86400.0}

#: `outcome` of callcenter_callbacks_total: what happened to a queued callback.
CALLBACK_OUTCOMES = ("requested", "connected", "attempt_failed", "given_up", "cancelled")

#: The arrivals the live staffing gauge sizes for; Erlang C needs a target below 1.
NEEDED_WINDOW_SECONDS = 900.0
MAX_TARGET = 0.999

#: The window of the agent occupancy gauge.
OCCUPANCY_WINDOW_LABEL = "1h"
OCCUPANCY_WINDOW_SECONDS = 3600.0

#: Agent states that count as occupied, and as staffed (occupied or waiting for a call).
#: Paused and logged-out time count neither way.
OCCUPIED_STATES = frozenset({AgentState.OFFERED, AgentState.ON_CALL, AgentState.WRAP_UP})
STAFFED_STATES = OCCUPIED_STATES | {AgentState.AVAILABLE}


def queue_wait_buckets(thresholds: Iterable[float]) -> tuple[float, ...]:
    """The base buckets plus each threshold and the bounds `THRESHOLD_MARGIN_SECONDS` around it.

    The histogram is shared by every queue (one bucket list per metric), so the list is the
    union over all configured thresholds; every process with the same configuration gets the
    same list, which summing buckets across processes requires.
    """
    bounds = {float(b) for b in QUEUE_WAIT_BUCKETS}
    for threshold in thresholds:
        around = (
            threshold - THRESHOLD_MARGIN_SECONDS,
            threshold,
            threshold + THRESHOLD_MARGIN_SECONDS,
        )
        bounds.update(b for b in around if b > 0)
    return tuple(sorted(bounds))


def overflow_paths(settings: QueueSettings) -> Iterator[tuple[OverflowCause, OverflowKind]]:
    """The (cause, target) pairs the queue's settings can produce: only those start at 0,
    so a desk of many queues without overflow rules does not export hundreds of zeros."""
    causes = [
        cause
        for cause, enabled in (
            (OverflowCause.MAX_WAITING, settings.max_waiting is not None),
            (OverflowCause.MAX_WAIT, settings.max_wait_seconds is not None),
            (OverflowCause.JOIN_EMPTY, settings.join_empty is JoinEmpty.OVERFLOW),
        )
        if enabled
    ]
    kinds = [settings.overflow.kind]
    if settings.overflow.kind is OverflowKind.CALLBACK:
        kinds.append(LEAVE_QUEUE.kind)  # an anonymous caller cannot be called back
    for cause in causes:
        for kind in kinds:
            yield cause, kind


class AcdMetrics:
    """Subscribe `on_event` to the bus for `AcdEvent`; the collector registers itself.

    `own`: whether the event being published comes from this process's own command.
    With several processes sharing the ACD every process sees every event; the counters
    count only their own, so summing them over the processes counts each call once.
    """

    def __init__(
        self,
        registry: CollectorRegistry,
        acd: Acd,
        clock: Clock,
        own: Callable[[], bool] = lambda: True,
    ) -> None:
        self._own = own
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
            "Queued calls the caller hung up before an agent answered (short ones included).",
            ["queue"],
            registry=registry,
        )
        self.abandoned_short = Counter(
            "callcenter_calls_abandoned_short_total",
            "Abandons sooner than the queue's short-abandon threshold; a subset of"
            " callcenter_calls_abandoned_total, counted neither for nor against the service level.",
            ["queue"],
            registry=registry,
        )
        self.overflowed = Counter(
            "callcenter_calls_overflowed_total",
            "Calls that left their queue by its overflow rule (full line, waited too long, no"
            " agent logged in), by cause and by where they went.",
            ["queue", "cause", "target"],
            registry=registry,
        )
        self.callbacks = Counter(
            "callcenter_callbacks_total",
            "Queued callbacks by outcome: requested (a caller kept its place), connected (the"
            " callee answered), attempt_failed (a dial that failed, retried or not), given_up"
            " (no tries left) and cancelled.",
            ["queue", "outcome"],
            registry=registry,
        )
        self.wait_buckets = queue_wait_buckets(
            acd.queue_settings(queue).service_level_seconds for queue in acd.queue_names
        )
        self.queue_wait = Histogram(
            "callcenter_queue_wait_seconds",
            "Pickup latency: from entering the queue to an agent answering.",
            ["queue"],
            buckets=self.wait_buckets,
            registry=registry,
        )
        # Every configured queue shows 0 before its first call, so rate() and alerts work.
        for queue in acd.queue_names:
            for metric in (
                self.offered,
                self.answered,
                self.abandoned,
                self.abandoned_short,
                self.queue_wait,
            ):
                metric.labels(queue=queue)
            for cause, kind in overflow_paths(acd.queue_settings(queue)):
                self.overflowed.labels(queue=queue, cause=cause.value, target=kind.value)
            for outcome in CALLBACK_OUTCOMES:
                self.callbacks.labels(queue=queue, outcome=outcome)
        self.occupancy = AgentOccupancy(acd, OCCUPANCY_WINDOW_SECONDS)
        registry.register(AcdCollector(acd, clock, self.occupancy))

    def on_event(self, event: ev.AcdEvent) -> None:
        if isinstance(event, ev.AgentStateChanged):
            self.occupancy.on_state_changed(event)  # every process keeps the shared view
            return
        if not self._own():
            return
        match event:
            case ev.CallEnqueued(queue=queue):
                self.offered.labels(queue=queue).inc()
            case ev.CallAnswered(queue=queue, wait_seconds=wait):
                self.answered.labels(queue=queue).inc()
                self.queue_wait.labels(queue=queue).observe(wait)
            case ev.CallAbandoned(queue=queue, short=short):
                self.abandoned.labels(queue=queue).inc()
                if short:
                    self.abandoned_short.labels(queue=queue).inc()
            case ev.CallOverflowed(queue=queue, cause=cause, target_kind=kind):
                self.overflowed.labels(queue=queue, cause=cause.value, target=kind.value).inc()
            case ev.CallbackRequested(queue=queue):
                self.callbacks.labels(queue=queue, outcome="requested").inc()
            case ev.CallbackConnected(queue=queue):
                self.callbacks.labels(queue=queue, outcome="connected").inc()
            case ev.CallbackFailed(queue=queue, retry_at=retry_at):
                self.callbacks.labels(queue=queue, outcome="attempt_failed").inc()
                if retry_at is None:
                    self.callbacks.labels(queue=queue, outcome="given_up").inc()
            case ev.CallbackCancelled(queue=queue):
                self.callbacks.labels(queue=queue, outcome="cancelled").inc()
            case _:
                pass


@dataclass(frozen=True)
class _Span:
    """A stretch of one agent in one staffed state, credited to the queues it served then."""

    start: float
    end: float
    occupied: bool
    queues: frozenset[str]


class AgentOccupancy:
    """Agent occupancy per queue over a sliding window, from the ACD's agent state changes.

    Occupancy is the time agents were offered a call, on a call or in wrap-up, over that
    time plus the time they were available. An agent serving several queues counts in
    each of them, as in `callcenter_agents`; a stretch is credited to the queues the agent
    serves when the stretch ends, so a change of queues applies from the start of the
    agent's current state. Only the last window of closed stretches is kept.

    The scrape reads it on the event loop, like the ACD; nothing here locks.
    """

    def __init__(self, acd: Acd, window_seconds: float) -> None:
        self._acd = acd
        self._window = window_seconds
        self._spans: deque[_Span] = deque()
        #: Since when each agent's current state is not yet in a span.
        self._since = {agent.agent_id: agent.state_since for agent in acd.agents}

    def on_state_changed(self, event: ev.AgentStateChanged) -> None:
        start = self._since.get(event.agent_id, event.at)
        self._since[event.agent_id] = event.at
        if event.old in STAFFED_STATES and event.at > start:
            try:
                queues = self._acd.agent(event.agent_id).queues
            except UnknownAgent:
                queues = frozenset()
            if queues:
                self._spans.append(_Span(start, event.at, event.old in OCCUPIED_STATES, queues))
        horizon = event.at - self._window
        while self._spans and self._spans[0].end <= horizon:
            self._spans.popleft()

    def ratios(self, now: float) -> dict[str, float]:
        """Occupancy per queue; a queue without staffed time in the window has none."""
        since = now - self._window
        occupied = dict.fromkeys(self._acd.queue_names, 0.0)
        staffed = dict.fromkeys(self._acd.queue_names, 0.0)
        for span in self._spans_until(now):
            length = min(span.end, now) - max(span.start, since)
            if length <= 0:
                continue
            for queue in span.queues:
                if queue in staffed:
                    staffed[queue] += length
                    if span.occupied:
                        occupied[queue] += length
        return {queue: occupied[queue] / total for queue, total in staffed.items() if total > 0}

    def _spans_until(self, now: float) -> Iterator[_Span]:
        """The closed spans, then every agent's current state as a span ending now."""
        yield from self._spans
        for agent in self._acd.agents:
            if agent.state in STAFFED_STATES:
                start = self._since.get(agent.agent_id, agent.state_since)
                yield _Span(start, now, agent.state in OCCUPIED_STATES, agent.queues)


class AcdCollector:
    """Queue and agent gauges computed from the ACD's memory during the scrape.

    The ACD is not thread-safe: scrape from the event loop (the API's /metrics handler),
    never from prometheus_client's own HTTP server thread.
    """

    def __init__(self, acd: Acd, clock: Clock, occupancy: AgentOccupancy) -> None:
        self._acd = acd
        self._clock = clock
        self._occupancy = occupancy

    def describe(self) -> Iterable[Metric]:
        """Names only, so the registry can refuse a duplicate without collecting."""
        return list(_Families())

    def collect(self) -> Iterable[Metric]:
        f = _Families()
        now = self._clock.now()
        for queue in self._acd.queue_names:
            snapshot = self._acd.snapshot(queue)
            f.waiting.add_metric([queue], snapshot.waiting)
            f.longest_wait.add_metric([queue], snapshot.longest_wait_seconds)
            for state in AgentState:
                f.agents.add_metric([queue, state.value], snapshot.agents.get(state, 0))
            f.target.add_metric([queue], snapshot.service_level_target)
            f.threshold.add_metric([queue], snapshot.service_level_seconds)
            statistics = self._acd.statistics(queue)
            f.needed.add_metric([queue], self._agents_needed(queue, now))
            for label, seconds in FIGURE_WINDOWS.items():
                figures = statistics.window(now, seconds)
                # An undefined figure (no call counted in the window) has no sample: an
                # empty hour is not a 100% hour, nor a 0-second ASA.
                if figures.service_level is not None:
                    f.service_level.add_metric([queue, label], figures.service_level)
                if figures.asa_seconds is not None:
                    f.asa.add_metric([queue, label], figures.asa_seconds)
                if figures.aht_seconds is not None:
                    f.aht.add_metric([queue, label], figures.aht_seconds)
        for queue, ratio in self._occupancy.ratios(now).items():
            f.occupancy.add_metric([queue, OCCUPANCY_WINDOW_LABEL], ratio)
        return list(f)

    def _agents_needed(self, queue: str, now: float) -> int:
        """Erlang C for the last 15 minutes' arrivals at the last hour's handle time: the
        live answer to "are enough agents logged in for what is coming in now?"."""
        settings = self._acd.queue_settings(queue)
        statistics = self._acd.statistics(queue)
        arrivals = statistics.window(now, NEEDED_WINDOW_SECONDS).offered
        if arrivals == 0:
            return 0
        aht = statistics.window(now, 3600.0).aht_seconds or settings.default_aht_seconds
        workload = Workload(
            calls=arrivals,
            interval_minutes=NEEDED_WINDOW_SECONDS / 60,
            aht_seconds=aht,
            answer_within_seconds=settings.service_level_seconds,
            target=min(settings.service_level_target, MAX_TARGET),
        )
        return required_agents(workload).agents


class _Families:
    """One fresh family of each gauge, filled by one scrape."""

    def __init__(self) -> None:
        self.waiting = GaugeMetricFamily(
            "callcenter_queue_waiting_calls",
            "Calls in the queue not yet connected to an agent (waiting or ringing).",
            labels=["queue"],
        )
        self.longest_wait = GaugeMetricFamily(
            "callcenter_queue_longest_wait_seconds",
            "How long the longest-waiting call of the queue has waited.",
            labels=["queue"],
        )
        self.agents = GaugeMetricFamily(
            "callcenter_agents",
            "Agents serving the queue, by state.",
            labels=["queue", "state"],
        )
        self.needed = GaugeMetricFamily(
            "callcenter_agents_needed",
            "Agents Erlang C asks for at the last 15 minutes' arrival rate and the last"
            " hour's handle time, to meet the queue's target.",
            labels=["queue"],
        )
        self.service_level = GaugeMetricFamily(
            "callcenter_service_level_ratio",
            "Answered within the threshold over answered plus long abandons, in the window;"
            " no sample while no call counts.",
            labels=["queue", "window"],
        )
        self.target = GaugeMetricFamily(
            "callcenter_service_level_target_ratio",
            "The service level the queue aims for.",
            labels=["queue"],
        )
        self.threshold = GaugeMetricFamily(
            "callcenter_service_level_threshold_seconds",
            "A call answered within this wait counts for the service level.",
            labels=["queue"],
        )
        self.asa = GaugeMetricFamily(
            "callcenter_asa_seconds",
            "Average speed of answer: mean wait of the calls answered in the window.",
            labels=["queue", "window"],
        )
        self.aht = GaugeMetricFamily(
            "callcenter_aht_seconds",
            "Average handle time (talk plus wrap-up) of the calls completed in the window.",
            labels=["queue", "window"],
        )
        self.occupancy = GaugeMetricFamily(
            "callcenter_agent_occupancy_ratio",
            "Agent time offered, on a call or in wrap-up over that time plus available time.",
            labels=["queue", "window"],
        )

    def __iter__(self) -> Iterator[GaugeMetricFamily]:
        return iter(
            (
                self.waiting,
                self.longest_wait,
                self.agents,
                self.needed,
                self.service_level,
                self.target,
                self.threshold,
                self.asa,
                self.aht,
                self.occupancy,
            )
        )
