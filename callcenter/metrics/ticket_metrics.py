"""Ticket SLA metrics: warnings and breaches the SLA monitor announced, per clock, and
complaints the complaint monitor escalated, per level.

Counted from the monitor's events, which it announces once per clock and ticket across
restarts and processes: sum the counters over the processes (docs/metrics.md).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

from callcenter.complaints.model import ComplaintEscalated
from callcenter.tickets.sla import ClockKind
from callcenter.tickets.sla_monitor import SlaBreached, SlaEvent, SlaWarning

#: The `level` label's values: bounded, a fourth escalation counts as "3+".
ESCALATION_LEVELS = ("1", "2", "3+")


def escalation_label(level: int) -> str:
    return "3+" if level >= 3 else str(max(level, 1))


class TicketMetrics:
    """Subscribe `on_event` to the bus for `SlaEvent`, `on_complaint_escalated` for
    `ComplaintEscalated`."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.warnings = Counter(
            "callcenter_ticket_sla_warnings_total",
            "Ticket SLA clocks that used the warning share of their target, by clock.",
            ["clock"],
            registry=registry,
        )
        self.breaches = Counter(
            "callcenter_ticket_sla_breaches_total",
            "Ticket SLA clocks that went past their target, by clock.",
            ["clock"],
            registry=registry,
        )
        self.complaints_escalated = Counter(
            "callcenter_complaints_escalated_total",
            "Complaints that missed a limit and went up a level (1, 2, 3+).",
            ["level"],
            registry=registry,
        )
        for level in ESCALATION_LEVELS:
            self.complaints_escalated.labels(level=level)
        # Every clock at 0 from the start, so increase() and the alerts see it.
        for kind in ClockKind:
            self.warnings.labels(clock=kind.value)
            self.breaches.labels(clock=kind.value)

    def on_event(self, event: SlaEvent) -> None:
        if isinstance(event, SlaWarning):
            self.warnings.labels(clock=event.clock.value).inc()
        elif isinstance(event, SlaBreached):
            self.breaches.labels(clock=event.clock.value).inc()

    def on_complaint_escalated(self, event: ComplaintEscalated) -> None:
        self.complaints_escalated.labels(level=escalation_label(event.level)).inc()
