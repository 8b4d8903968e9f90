"""Ticket SLA metrics: warnings and breaches the SLA monitor announced, per clock.

Counted from the monitor's events, which it announces once per clock and ticket across
restarts and processes: sum the counters over the processes (docs/metrics.md).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

from callcenter.ticketing.sla import ClockKind
from callcenter.ticketing.sla_monitor import SlaBreached, SlaEvent, SlaWarning


class TicketMetrics:
    """Subscribe `on_event` to the bus for `SlaEvent`."""

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
        # Every clock at 0 from the start, so increase() and the alerts see it.
        for kind in ClockKind:
            self.warnings.labels(clock=kind.value)
            self.breaches.labels(clock=kind.value)

    def on_event(self, event: SlaEvent) -> None:
        if isinstance(event, SlaWarning):
            self.warnings.labels(clock=event.clock.value).inc()
        elif isinstance(event, SlaBreached):
            self.breaches.labels(clock=event.clock.value).inc()
