from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.registry import DuplicateTimeseries

from callcenter.acd import events as ev
from callcenter.acd.acd import Acd
from callcenter.acd.model import AgentState, QueueSettings
from callcenter.clock import ManualClock
from callcenter.events import EventBus
from callcenter.metrics.acd_metrics import QUEUE_WAIT_BUCKETS, AcdCollector, AcdMetrics

QUEUES = (
    QueueSettings("helpdesk", service_level_seconds=20.0, service_level_target=0.8),
    QueueSettings("vip"),
)


class Desk:
    """A real ACD on a manual clock, publishing on a real bus the metrics listen to."""

    def __init__(self) -> None:
        self.clock = ManualClock(1_764_000_000.0)
        self.bus = EventBus()
        self.acd = Acd(QUEUES, self.clock, self.bus.publish)
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
    assert desk.value("callcenter_calls_answered_total", queue="vip") == 0
    assert desk.value("callcenter_queue_wait_seconds_count", queue="vip") == 0


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


def test_other_events_are_ignored(desk: Desk) -> None:
    desk.metrics.on_event(ev.AcdEvent(at=0.0))
    assert desk.value("callcenter_calls_offered_total", queue="helpdesk") == 0


def test_collector_names_are_checked_for_duplicates(desk: Desk) -> None:
    with pytest.raises(DuplicateTimeseries):
        desk.registry.register(AcdCollector(desk.acd, desk.clock))
