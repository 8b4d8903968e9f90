from __future__ import annotations

from collections.abc import Iterable

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.registry import DuplicateTimeseries

from callcenter.acd import events as ev
from callcenter.acd.acd import Acd
from callcenter.acd.model import (
    AgentState,
    JoinEmpty,
    OverflowCause,
    OverflowKind,
    OverflowTarget,
    QueueSettings,
)
from callcenter.acd.service_level import QueueStatistics
from callcenter.clock import ManualClock
from callcenter.events import EventBus
from callcenter.metrics.acd_metrics import (
    FIGURE_WINDOWS,
    QUEUE_WAIT_BUCKETS,
    AcdCollector,
    AcdMetrics,
    overflow_paths,
    queue_wait_buckets,
)

OVERFLOWED, CALLBACKS = "callcenter_calls_overflowed_total", "callcenter_callbacks_total"
QUEUE = OverflowKind.QUEUE

QUEUES = (
    QueueSettings("helpdesk", service_level_seconds=20.0, service_level_target=0.8),
    QueueSettings("vip"),
)


class Desk:
    """A real ACD on a manual clock, publishing on a real bus the metrics listen to."""

    def __init__(self, queues: Iterable[QueueSettings] = QUEUES) -> None:
        self.clock = ManualClock(1_764_000_000.0)
        self.bus = EventBus()
        self.acd = Acd(queues, self.clock, self.bus.publish)
        self.registry = CollectorRegistry()
        self.metrics = AcdMetrics(self.registry, self.acd, self.clock)
        self.bus.subscribe(ev.AcdEvent, self.metrics.on_event)

    def value(self, name: str, **labels: str) -> float | None:
        return self.registry.get_sample_value(name, labels)

    def login(self, agent: str, queue: str = "helpdesk") -> None:
        self.acd.add_agent(agent, [queue])
        self.acd.set_agent_state(agent, AgentState.AVAILABLE)

    def answered_call(self, call_id: str, wait: float, queue: str = "helpdesk") -> None:
        """A call that waits `wait` seconds, rings its (only) agent and is answered."""
        self.acd.enqueue(call_id, queue, "+8613800000000")
        self.clock.advance(wait)
        self.acd.answered(call_id)

    def windows(self, name: str, queue: str = "helpdesk") -> dict[str, float | None]:
        return {w: self.value(name, queue=queue, window=w) for w in FIGURE_WINDOWS}


@pytest.fixture
def desk() -> Desk:
    return Desk()


def test_every_queue_shows_zero_before_the_first_call(desk: Desk) -> None:
    for queue in ("helpdesk", "vip"):
        assert desk.value("callcenter_calls_offered_total", queue=queue) == 0
        assert desk.value("callcenter_calls_answered_total", queue=queue) == 0
        assert desk.value("callcenter_calls_abandoned_total", queue=queue) == 0
        assert desk.value("callcenter_queue_wait_seconds_count", queue=queue) == 0
        assert desk.value("callcenter_queue_waiting_calls", queue=queue) == 0
        assert desk.value("callcenter_queue_longest_wait_seconds", queue=queue) == 0
        for state in AgentState:
            assert desk.value("callcenter_agents", queue=queue, state=state.value) == 0


def test_wait_buckets_include_the_service_level_threshold() -> None:
    assert 20 in QUEUE_WAIT_BUCKETS
    assert list(QUEUE_WAIT_BUCKETS) == sorted(QUEUE_WAIT_BUCKETS)


def test_wait_buckets_surround_every_configured_threshold() -> None:
    buckets = queue_wait_buckets([20.0, 12.0, 42.5, 3.0])
    assert list(buckets) == sorted(set(buckets))
    assert set(QUEUE_WAIT_BUCKETS) <= set(buckets)
    for bound in (15, 20, 25, 7, 12, 17, 37.5, 42.5, 47.5, 3, 8):
        assert bound in buckets
    assert all(b > 0 for b in buckets)  # 3 - 5 is no bound
    assert queue_wait_buckets([]) == tuple(float(b) for b in QUEUE_WAIT_BUCKETS)


def test_the_histogram_has_buckets_around_each_queue_threshold() -> None:
    desk = Desk([QueueSettings("helpdesk"), QueueSettings("vip", service_level_seconds=12)])
    desk.login("alice", "vip")
    desk.answered_call("c1", wait=11, queue="vip")

    def bucket(le: str, queue: str = "vip") -> float | None:
        return desk.value("callcenter_queue_wait_seconds_bucket", queue=queue, le=le)

    assert (bucket("7.0"), bucket("10.0"), bucket("12.0"), bucket("17.0")) == (0, 0, 1, 1)
    assert bucket("7.0", queue="helpdesk") == 0  # one bucket list for every queue
    assert desk.value("callcenter_service_level_threshold_seconds", queue="vip") == 12
    assert desk.value("callcenter_service_level_threshold_seconds", queue="helpdesk") == 20


def test_answered_call_counts_and_observes_pickup_latency(desk: Desk) -> None:
    desk.acd.add_agent("alice", ["helpdesk"])
    desk.acd.enqueue("c1", "helpdesk", "+8613800000000")
    desk.clock.advance(12)
    desk.acd.set_agent_state("alice", AgentState.AVAILABLE)  # offered now
    desk.clock.advance(3)
    desk.acd.answered("c1")

    assert desk.value("callcenter_calls_offered_total", queue="helpdesk") == 1
    assert desk.value("callcenter_calls_answered_total", queue="helpdesk") == 1
    assert desk.value("callcenter_queue_wait_seconds_count", queue="helpdesk") == 1
    assert desk.value("callcenter_queue_wait_seconds_sum", queue="helpdesk") == 15
    assert desk.value("callcenter_queue_wait_seconds_bucket", queue="helpdesk", le="10.0") == 0
    assert desk.value("callcenter_queue_wait_seconds_bucket", queue="helpdesk", le="15.0") == 1
    assert desk.value("callcenter_queue_wait_seconds_bucket", queue="helpdesk", le="20.0") == 1
    assert desk.value("callcenter_calls_offered_total", queue="vip") == 0


def test_abandoned_call_counts(desk: Desk) -> None:
    desk.acd.enqueue("c1", "vip", "+8613800000000")
    desk.clock.advance(40)
    desk.acd.hangup("c1")
    assert desk.value("callcenter_calls_offered_total", queue="vip") == 1
    assert desk.value("callcenter_calls_abandoned_total", queue="vip") == 1
    assert desk.value("callcenter_calls_abandoned_short_total", queue="vip") == 0
    assert desk.value("callcenter_calls_answered_total", queue="vip") == 0
    assert desk.value("callcenter_queue_wait_seconds_count", queue="vip") == 0


def test_short_abandons_are_counted_apart_and_in_the_total(desk: Desk) -> None:
    assert desk.value("callcenter_calls_abandoned_short_total", queue="helpdesk") == 0
    desk.acd.enqueue("misdial", "helpdesk", "+8613800000000")
    desk.clock.advance(4.9)  # short_abandon_seconds is 5
    desk.acd.hangup("misdial")
    desk.acd.enqueue("gave-up", "helpdesk", "+8613800000001")
    desk.clock.advance(5)
    desk.acd.hangup("gave-up")
    assert desk.value("callcenter_calls_abandoned_total", queue="helpdesk") == 2
    assert desk.value("callcenter_calls_abandoned_short_total", queue="helpdesk") == 1
    assert desk.value("callcenter_calls_abandoned_short_total", queue="vip") == 0


def test_queue_gauges_read_the_acd_at_scrape_time(desk: Desk) -> None:
    desk.acd.enqueue("c1", "helpdesk", "+8613800000001")
    desk.clock.advance(30)
    desk.acd.enqueue("c2", "helpdesk", "+8613800000002")
    desk.clock.advance(5)
    assert desk.value("callcenter_queue_waiting_calls", queue="helpdesk") == 2
    assert desk.value("callcenter_queue_longest_wait_seconds", queue="helpdesk") == 35

    desk.acd.hangup("c1")
    assert desk.value("callcenter_queue_waiting_calls", queue="helpdesk") == 1
    assert desk.value("callcenter_queue_longest_wait_seconds", queue="helpdesk") == 5


def test_agents_by_state(desk: Desk) -> None:
    desk.login("alice")
    desk.login("bob")
    desk.acd.add_agent("carol", ["helpdesk", "vip"])
    desk.acd.set_agent_state("bob", AgentState.PAUSED, "lunch")
    desk.acd.enqueue("c1", "helpdesk", "+8613800000000")  # rings alice

    def agents(queue: str, state: AgentState) -> float | None:
        return desk.value("callcenter_agents", queue=queue, state=state.value)

    assert agents("helpdesk", AgentState.OFFERED) == 1
    assert agents("helpdesk", AgentState.PAUSED) == 1
    assert agents("helpdesk", AgentState.LOGGED_OUT) == 1
    assert agents("helpdesk", AgentState.AVAILABLE) == 0
    assert agents("vip", AgentState.LOGGED_OUT) == 1
    assert agents("vip", AgentState.OFFERED) == 0


def test_service_level_absent_until_a_call_counts(desk: Desk) -> None:
    assert desk.value("callcenter_service_level_ratio", queue="helpdesk", window="1h") is None
    assert desk.value("callcenter_service_level_target_ratio", queue="helpdesk") == 0.8
    assert desk.value("callcenter_service_level_target_ratio", queue="vip") == 0.9

    desk.acd.enqueue("short", "helpdesk", "+8613800000000")
    desk.clock.advance(2)
    desk.acd.hangup("short")  # a short abandon counts neither way
    assert desk.value("callcenter_service_level_ratio", queue="helpdesk", window="1h") is None


def test_service_level_over_the_last_hour(desk: Desk) -> None:
    desk.login("alice")
    desk.answered_call("fast", wait=0)
    desk.acd.hangup("fast")
    desk.acd.set_agent_state("alice", AgentState.PAUSED)
    desk.acd.enqueue("slow", "helpdesk", "+8613800000001")
    desk.clock.advance(25)
    desk.acd.set_agent_state("alice", AgentState.AVAILABLE)
    desk.acd.answered("slow")
    assert desk.value("callcenter_service_level_ratio", queue="helpdesk", window="1h") == 0.5
    assert desk.value("callcenter_service_level_ratio", queue="vip", window="1h") is None

    desk.clock.advance(3601)  # both outcomes leave the window
    assert desk.value("callcenter_service_level_ratio", queue="helpdesk", window="1h") is None
    assert desk.value("callcenter_calls_answered_total", queue="helpdesk") == 2


def test_service_level_per_window(desk: Desk) -> None:
    desk.login("alice")
    desk.answered_call("fast", wait=0)
    desk.acd.hangup("fast")
    desk.clock.advance(20 * 60)
    desk.acd.set_agent_state("alice", AgentState.PAUSED)
    desk.acd.enqueue("slow", "helpdesk", "+8613800000001")
    desk.clock.advance(25)
    desk.acd.set_agent_state("alice", AgentState.AVAILABLE)
    desk.acd.answered("slow")
    level = "callcenter_service_level_ratio"
    assert desk.windows(level) == {"15m": 0.0, "1h": 0.5, "24h": 0.5}

    desk.clock.advance(2 * 3600)
    assert desk.windows(level) == {"15m": None, "1h": None, "24h": 0.5}
    desk.clock.advance(22 * 3600 + 1)
    assert desk.windows(level) == {"15m": None, "1h": None, "24h": None}


def test_windows_fit_in_what_the_acd_keeps() -> None:
    assert set(FIGURE_WINDOWS) == {"15m", "1h", "24h"}
    assert max(FIGURE_WINDOWS.values()) <= QueueStatistics.RETENTION_SECONDS


def test_asa_and_aht_absent_until_defined(desk: Desk) -> None:
    for name in ("callcenter_asa_seconds", "callcenter_aht_seconds"):
        assert desk.windows(name) == dict.fromkeys(FIGURE_WINDOWS)

    desk.login("alice")
    desk.acd.enqueue("c1", "helpdesk", "+8613800000000")
    desk.acd.set_agent_state("alice", AgentState.PAUSED)  # applies after the call
    desk.clock.advance(10)
    desk.acd.answered("c1")
    assert desk.windows("callcenter_asa_seconds") == dict.fromkeys(FIGURE_WINDOWS, 10.0)
    assert desk.windows("callcenter_aht_seconds") == dict.fromkeys(FIGURE_WINDOWS)  # talking

    desk.clock.advance(100)
    desk.acd.hangup("c1")
    desk.acd.enqueue("c2", "helpdesk", "+8613800000001")
    desk.clock.advance(30)
    desk.acd.set_agent_state("alice", AgentState.AVAILABLE)
    desk.acd.answered("c2")
    assert desk.windows("callcenter_asa_seconds") == dict.fromkeys(FIGURE_WINDOWS, 20.0)
    assert desk.windows("callcenter_aht_seconds") == dict.fromkeys(FIGURE_WINDOWS, 100.0)
    assert desk.windows("callcenter_asa_seconds", queue="vip") == dict.fromkeys(FIGURE_WINDOWS)


def test_aht_includes_wrap_up() -> None:
    desk = Desk([QueueSettings("helpdesk", wrap_up_seconds=30)])
    desk.login("alice")
    desk.answered_call("c1", wait=0)
    desk.clock.advance(60)
    desk.acd.hangup("c1")
    assert desk.value("callcenter_aht_seconds", queue="helpdesk", window="1h") is None
    desk.clock.advance(30)
    desk.acd.tick()
    assert desk.value("callcenter_aht_seconds", queue="helpdesk", window="1h") == 90


def test_occupancy_over_the_last_hour() -> None:
    desk = Desk([QueueSettings("helpdesk", wrap_up_seconds=300), QueueSettings("vip")])

    def occupancy(queue: str = "helpdesk") -> float | None:
        return desk.value("callcenter_agent_occupancy_ratio", queue=queue, window="1h")

    desk.acd.add_agent("alice", ["helpdesk"])
    assert occupancy() is None  # logged out: no staffed time
    desk.acd.set_agent_state("alice", AgentState.AVAILABLE)
    desk.clock.advance(1800)
    assert occupancy() == 0.0
    desk.acd.enqueue("c1", "helpdesk", "+8613800000000")  # rings alice
    desk.clock.advance(10)
    desk.acd.answered("c1")
    desk.clock.advance(590)
    desk.acd.hangup("c1")  # wrap-up
    desk.clock.advance(300)
    desk.acd.tick()  # available again
    desk.acd.set_agent_state("alice", AgentState.PAUSED)
    desk.clock.advance(900)  # paused time counts neither way
    assert occupancy() == pytest.approx(900 / 2700)

    desk.clock.advance(1800)  # the available half hour left the window
    assert occupancy() == pytest.approx(1.0)
    desk.clock.advance(3600)
    assert occupancy() is None
    assert occupancy("vip") is None


def test_occupancy_counts_an_agent_in_each_of_its_queues(desk: Desk) -> None:
    desk.acd.add_agent("carol", ["helpdesk", "vip"])
    desk.acd.set_agent_state("carol", AgentState.AVAILABLE)
    desk.login("bob")
    desk.acd.set_agent_state("carol", AgentState.PAUSED)
    desk.answered_call("c1", wait=0)  # bob takes it
    desk.acd.set_agent_state("carol", AgentState.AVAILABLE)
    desk.clock.advance(600)
    assert desk.value("callcenter_agent_occupancy_ratio", queue="helpdesk", window="1h") == 0.5
    assert desk.value("callcenter_agent_occupancy_ratio", queue="vip", window="1h") == 0.0


def test_occupancy_of_agents_logged_in_before_the_metrics_existed() -> None:
    clock = ManualClock(1_764_000_000.0)
    bus = EventBus()
    acd = Acd(QUEUES, clock, bus.publish)
    acd.add_agent("alice", ["helpdesk"])
    acd.set_agent_state("alice", AgentState.AVAILABLE)
    clock.advance(300)
    registry = CollectorRegistry()
    metrics = AcdMetrics(registry, acd, clock)
    bus.subscribe(ev.AcdEvent, metrics.on_event)
    acd.enqueue("c1", "helpdesk", "+8613800000000")
    acd.answered("c1")
    clock.advance(100)
    value = registry.get_sample_value(
        "callcenter_agent_occupancy_ratio", {"queue": "helpdesk", "window": "1h"}
    )
    assert value == pytest.approx(100 / 400)


def test_a_scrape_changes_nothing(desk: Desk) -> None:
    desk.login("alice")
    desk.answered_call("c1", wait=3)
    desk.clock.advance(40)
    assert generate_latest(desk.registry) == generate_latest(desk.registry)


def test_other_events_are_ignored(desk: Desk) -> None:
    desk.metrics.on_event(ev.AcdEvent(at=0.0))
    assert desk.value("callcenter_calls_offered_total", queue="helpdesk") == 0


def test_collector_names_are_checked_for_duplicates(desk: Desk) -> None:
    with pytest.raises(DuplicateTimeseries):
        desk.registry.register(AcdCollector(desk.acd, desk.clock, desk.metrics.occupancy))


def test_agents_needed_follows_the_last_quarter_hours_arrivals(desk: Desk) -> None:
    assert desk.value("callcenter_agents_needed", queue="helpdesk") == 0
    # 60 calls in 15 minutes at the default 300 s handle time: 20 Erlangs, and Erlang C
    # (checked against published tables in test_erlang_c.py) asks for 25 agents to
    # answer this queue's 80% within 20 s.
    for n in range(60):
        desk.acd.enqueue(f"c{n}", "helpdesk", "+8613800000000")
        desk.clock.advance(14)
    assert desk.value("callcenter_agents_needed", queue="helpdesk") == 25
    # A quarter of an hour later nothing new has come in: nobody more is needed.
    desk.clock.advance(901)
    assert desk.value("callcenter_agents_needed", queue="helpdesk") == 0


def test_overflows_count_by_cause_and_where_the_call_went() -> None:
    full = QueueSettings("helpdesk", max_waiting=1, overflow_target=OverflowTarget(QUEUE, "vip"))
    desk = Desk([full, QueueSettings("vip")])
    assert desk.value(OVERFLOWED, queue="helpdesk", cause="max_waiting", target="queue") == 0
    # Only what the queue's rules can produce starts at 0: no wait limit, no overflow in vip.
    assert desk.value(OVERFLOWED, queue="helpdesk", cause="max_wait", target="queue") is None
    assert desk.value(OVERFLOWED, queue="vip", cause="max_waiting", target="queue") is None
    desk.acd.enqueue("c1", "helpdesk", "+8613800000001")
    desk.acd.enqueue("c2", "helpdesk", "+8613800000002")  # the line is full
    assert desk.value(OVERFLOWED, queue="helpdesk", cause="max_waiting", target="queue") == 1
    assert desk.value(OVERFLOWED, queue="helpdesk", cause="max_wait", target="queue") is None


def test_overflow_paths_follow_the_queue_rules() -> None:
    to_callback = OverflowTarget(OverflowKind.CALLBACK, None)
    settings = QueueSettings("q", max_wait_seconds=60, overflow_target=to_callback)
    assert set(overflow_paths(settings)) == {
        (OverflowCause.MAX_WAIT, OverflowKind.CALLBACK),
        (OverflowCause.MAX_WAIT, OverflowKind.TICKET_ONLY),  # callers without a number
    }
    empty = QueueSettings("q", join_empty=JoinEmpty.OVERFLOW)
    assert list(overflow_paths(empty)) == [(OverflowCause.JOIN_EMPTY, OverflowKind.TICKET_ONLY)]
    assert list(overflow_paths(QueueSettings("q"))) == []


def test_callbacks_count_each_outcome() -> None:
    desk = Desk([QueueSettings("helpdesk", callback_retries=1, callback_retry_seconds=0)])

    def outcomes() -> dict[str, float | None]:
        names = ("requested", "connected", "attempt_failed", "given_up", "cancelled")
        return {o: desk.value(CALLBACKS, queue="helpdesk", outcome=o) for o in names}

    assert set(outcomes().values()) == {0}
    for call in ("kept", "dropped", "withdrawn"):
        desk.acd.enqueue(call, "helpdesk", "+8613800000001")
        desk.acd.request_callback(call, "+8613800000009")
    desk.acd.cancel_callback("withdrawn")
    desk.acd.add_agent("alice", ["helpdesk"])
    desk.acd.set_agent_state("alice", AgentState.AVAILABLE)
    desk.acd.answered("kept", "alice")  # the agent takes it: the callee is dialled
    desk.acd.callback_answered("kept")
    desk.acd.hangup("kept")
    for _ in range(2):  # the first try and its one retry fail
        desk.acd.answered("dropped", "alice")
        desk.acd.callback_failed("dropped")

    assert outcomes() == {
        "requested": 3,
        "connected": 1,
        "attempt_failed": 2,
        "given_up": 1,
        "cancelled": 1,
    }
