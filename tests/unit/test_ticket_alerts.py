"""Ticket alerts as the consoles get them: bus events to `ticket_alert` items, who of the
agents sees one, and the complaint escalation counter's bounded label."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry

from callcenter.api.websocket import alerts
from callcenter.complaints.model import ComplaintEscalated, Limit
from callcenter.metrics.ticket_metrics import TicketMetrics, escalation_label
from callcenter.tickets.records import Ticket, TicketStatus
from callcenter.tickets.sla import ClockKind
from callcenter.tickets.sla_alerts import OpenAlert
from callcenter.tickets.sla_monitor import SlaBreached, SlaWarning

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
DUE = NOW + timedelta(minutes=6)


def ticket(assignee: str | None = None, call_ids: tuple[str, ...] = ()) -> Ticket:
    return Ticket(
        id=7,
        kind="incident",
        status=TicketStatus.IN_PROGRESS,
        priority=1,
        subject="Server room too hot",
        employee_id=None,
        device_id=None,
        created_at=NOW,
        updated_at=NOW,
        call_ids=call_ids,
        tier="tier2_onsite",
        assignee=assignee,
    )


def test_a_warning_names_its_clock_level_and_due_time() -> None:
    event = SlaWarning(7, ClockKind.RESOLUTION, DUE, 0.8, NOW)
    alert = alerts.from_event(event, NOW.timestamp())
    assert alert is not None
    assert alerts.alert_message(alert) == {
        "type": "ticket_alert",
        "at": NOW.timestamp(),
        "ticket_id": 7,
        "kind": "sla_warning",
        "clock": "resolution",
        "level": 0.8,
        "escalation_level": None,
        "due_at": "2026-12-01T09:06:00+00:00",
        "subject": None,
        "priority": None,
        "assignee": None,
        "tier": None,
    }


def test_a_breach_has_no_level_and_a_paused_warning_no_due_time() -> None:
    breach = alerts.from_event(SlaBreached(7, ClockKind.ONSITE_ARRIVAL, DUE), 0.0)
    assert breach is not None
    item = alerts.alert_item(breach)
    assert (item["kind"], item["clock"], item["level"]) == ("sla_breach", "onsite_arrival", None)
    paused = alerts.from_event(SlaWarning(7, ClockKind.RESOLUTION, None, 0.9, NOW), 0.0)
    assert paused is not None and alerts.alert_item(paused)["due_at"] is None


def test_a_complaint_escalation_names_its_level_and_account_manager() -> None:
    event = ComplaintEscalated(9, 3, "mei", 2, Limit.RESOLVE, DUE)
    alert = alerts.from_event(event, NOW.timestamp())
    assert alert is not None
    item = alerts.alert_item(alert)
    assert (item["kind"], item["escalation_level"], item["clock"], item["level"]) == (
        "complaint_escalated",
        2,
        None,
        None,
    )
    assert item["assignee"] == "mei"


def test_other_events_are_no_alerts() -> None:
    assert alerts.from_event(object(), 0.0) is None


def test_the_ticket_fills_in_what_it_says_now() -> None:
    bare = OpenAlert(7, "sla_breach", NOW, clock="resolution", assignee="old")
    item = alerts.alert_item(alerts.with_ticket(bare, ticket("bob")))
    assert (item["subject"], item["priority"], item["assignee"], item["tier"]) == (
        "Server room too hot",
        1,
        "bob",
        "tier2_onsite",
    )


@pytest.mark.parametrize(
    ("found", "agent", "calls", "concerned"),
    [
        (ticket("bob"), "bob", (None, None), True),
        (ticket("bob"), "alice", (None, None), False),
        (ticket(None, ("c1", "c2")), "alice", ("c2", None), True),  # on the call
        (ticket(None, ("c1",)), "alice", (None, "c1"), True),  # the call just ended
        (ticket(None, ("c1",)), "alice", ("c9", "c8"), False),
        (None, "alice", ("c1", None), False),  # not read: nobody knows it is hers
    ],
)
def test_which_agents_see_an_alert(
    found: Ticket | None, agent: str, calls: tuple[str | None, ...], concerned: bool
) -> None:
    assert alerts.concerns_agent(found, agent, calls) is concerned


@pytest.mark.parametrize(("level", "label"), [(1, "1"), (2, "2"), (3, "3+"), (7, "3+")])
def test_escalation_levels_are_a_bounded_label(level: int, label: str) -> None:
    assert escalation_label(level) == label


def test_complaint_escalations_are_counted_by_level() -> None:
    registry = CollectorRegistry()
    metrics = TicketMetrics(registry)
    name = "callcenter_complaints_escalated_total"
    assert registry.get_sample_value(name, {"level": "3+"}) == 0
    for level in (1, 2, 4, 5):
        metrics.on_complaint_escalated(ComplaintEscalated(9, 3, None, level, Limit.RESOLVE, DUE))
    assert registry.get_sample_value(name, {"level": "1"}) == 1
    assert registry.get_sample_value(name, {"level": "2"}) == 1
    assert registry.get_sample_value(name, {"level": "3+"}) == 2
