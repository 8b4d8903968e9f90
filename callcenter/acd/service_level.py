"""Service-level accounting per queue: what "90% within 20 s" is computed from.

Default formula: answered within the threshold over (answered + abandoned after the
short-abandon threshold). A caller who hangs up in the first seconds (misdial, changed
mind) counts neither for nor against the desk.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import StrEnum


class Outcome(StrEnum):
    ANSWERED = "answered"
    ABANDONED = "abandoned"


@dataclass(frozen=True)
class _Record:
    at: float
    outcome: Outcome
    wait: float


def service_level(answered_within: int, answered: int, abandoned_long: int) -> float | None:
    """The ratio, or None when no call counts yet (an empty hour is not a 100% hour)."""
    denominator = answered + abandoned_long
    if denominator == 0:
        return None
    return answered_within / denominator


@dataclass(frozen=True)
class WindowFigures:
    answered: int
    answered_within: int
    abandoned: int
    short_abandoned: int
    asa_seconds: float | None  # average speed of answer
    aht_seconds: float | None  # average handle time of calls completed in the window
    service_level: float | None


class QueueStatistics:
    """Outcomes of one queue over the last day, answered for any window inside it."""

    RETENTION_SECONDS = 24 * 3600.0

    def __init__(self, threshold_seconds: float, short_abandon_seconds: float) -> None:
        self.threshold_seconds = threshold_seconds
        self.short_abandon_seconds = short_abandon_seconds
        self._outcomes: deque[_Record] = deque()
        self._handled: deque[tuple[float, float]] = deque()
        self.offered_total = 0
        self.answered_total = 0
        self.abandoned_total = 0

    def record_offered(self) -> None:
        self.offered_total += 1

    def record_answered(self, at: float, wait: float) -> None:
        self.answered_total += 1
        self._outcomes.append(_Record(at, Outcome.ANSWERED, wait))
        self._prune(at)

    def record_abandoned(self, at: float, wait: float) -> None:
        self.abandoned_total += 1
        self._outcomes.append(_Record(at, Outcome.ABANDONED, wait))
        self._prune(at)

    def record_handled(self, at: float, handle_seconds: float) -> None:
        self._handled.append((at, handle_seconds))
        self._prune(at)

    def is_short_abandon(self, wait: float) -> bool:
        return wait < self.short_abandon_seconds

    def window(self, now: float, seconds: float) -> WindowFigures:
        since = now - seconds
        answered = answered_within = abandoned = short = 0
        total_wait = 0.0
        for record in reversed(self._outcomes):
            if record.at < since:
                break
            if record.outcome is Outcome.ANSWERED:
                answered += 1
                total_wait += record.wait
                if record.wait <= self.threshold_seconds:
                    answered_within += 1
            else:
                abandoned += 1
                if self.is_short_abandon(record.wait):
                    short += 1
        handled = [h for at, h in self._handled if at >= since]
        return WindowFigures(
            answered=answered,
            answered_within=answered_within,
            abandoned=abandoned,
            short_abandoned=short,
            asa_seconds=total_wait / answered if answered else None,
            aht_seconds=sum(handled) / len(handled) if handled else None,
            service_level=service_level(answered_within, answered, abandoned - short),
        )

    def _prune(self, now: float) -> None:
        horizon = now - self.RETENTION_SECONDS
        while self._outcomes and self._outcomes[0].at < horizon:
            self._outcomes.popleft()
        while self._handled and self._handled[0][0] < horizon:
            self._handled.popleft()
