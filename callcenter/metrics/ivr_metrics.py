"""IVR outcomes: how many callers reach a queue, and how many give up in the menus."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

from callcenter.ivr.events import IvrFinished, IvrOutcome


class IvrMetrics:
    """Subscribe `on_event` to the bus for `IvrFinished`."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.outcomes = Counter(
            "callcenter_ivr_outcomes_total",
            "Callers leaving the IVR, by how: queued, transferred, flow_hangup, caller_hangup.",
            ["outcome"],
            registry=registry,
        )
        for outcome in IvrOutcome:
            self.outcomes.labels(outcome=outcome.value)

    def on_event(self, event: IvrFinished) -> None:
        self.outcomes.labels(outcome=event.outcome.value).inc()
