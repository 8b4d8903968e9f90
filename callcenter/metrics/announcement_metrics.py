"""Queue announcements: how many waiting callers heard one to the end, how many were cut
short (an agent's phone rang with the call, the caller pressed the callback key or left)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

from callcenter.calls.events import QueueAnnouncementPlayed


class AnnouncementMetrics:
    """Subscribe `on_event` to the bus for `QueueAnnouncementPlayed`."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.announcements = Counter(
            "callcenter_queue_announcements_total",
            "Announcements to waiting callers (place, hold time, callback offer), by queue"
            " and by how they ended: played (to the end) or cut_short.",
            ["queue", "outcome"],
            registry=registry,
        )

    def on_event(self, event: QueueAnnouncementPlayed) -> None:
        outcome = "played" if event.completed else "cut_short"
        self.announcements.labels(queue=event.queue, outcome=outcome).inc()
