"""Service-level accounting per queue: what "90% within 20 s" is computed from.

A queue keeps a day of arrivals, outcomes (how each call left the queue, after how long)
and handle times, and answers for any window inside that day: rolling ones (the last
hour, the last day) and the 15-minute intervals aligned to the clock that workforce
reports use. The formula is the queue's choice (`ServiceLevelFormula`); the default
counts answered within the threshold over answered plus abandoned after the
short-abandon threshold, so a caller who hangs up in the first seconds (misdial, changed
mind) counts neither for nor against the desk. docs/service-level.md compares the
formulas and names the products they come from.

"Offered" in the formulas is the calls that left the queue in the window, however they
left; a call still waiting counts nowhere yet, so a window's ratio never moves because a
call is merely in progress. The `offered` figure itself counts arrivals.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from itertools import islice
from operator import itemgetter
from typing import Any

from callcenter.acd.errors import InvalidSetting

#: Length of a reporting interval; intervals start at multiples of it since the epoch,
#: which is also aligned in every time zone whose offset is a whole quarter hour.
INTERVAL_SECONDS = 900.0


class Outcome(StrEnum):
    """How a call left a queue."""

    ANSWERED = "answered"
    ABANDONED = "abandoned"
    CALLBACK = "callback"  # the caller chose (or was given) a callback instead of holding
    OVERFLOWED = "overflowed"  # a queue limit sent it elsewhere
    TRANSFERRED = "transferred"  # moved to another queue or agent while waiting


class ServiceLevelFormula(StrEnum):
    ANSWERED_OVER_ANSWERED_ABANDONED_LONG = "answered_over_answered_abandoned_long"
    ANSWERED_OVER_ANSWERED = "answered_over_answered"
    ASTERISK_SL2 = "asterisk_sl2"
    CISCO_IGNORE = "cisco_ignore"
    CISCO_NEGATIVE = "cisco_negative"
    AMAZON_CONNECT = "amazon_connect"


@dataclass(frozen=True)
class _Record:
    at: float
    outcome: Outcome
    wait: float


def service_level(answered_within: int, answered: int, abandoned_long: int) -> float | None:
    """The default ratio, or None when no call counts yet (an empty hour is not a 100% hour)."""
    return _ratio(answered_within, answered + abandoned_long)


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator > 0 else None


@dataclass(frozen=True)
class WindowFigures:
    answered: int
    answered_within: int
    abandoned: int
    short_abandoned: int
    asa_seconds: float | None  # average speed of answer
    aht_seconds: float | None  # average handle time (talk + wrap-up) of calls handled in it
    service_level: float | None  # by the queue's formula
    offered: int = 0  # arrivals in the queue
    abandoned_within: int = 0  # abandoned at or before the threshold
    callbacks: int = 0
    callbacks_within: int = 0
    overflowed: int = 0
    transferred: int = 0
    abandon_rate: float | None = None  # abandoned over the calls that left the queue

    @property
    def left_queue(self) -> int:
        """Calls that left the queue in the window, however: the formulas' "offered"."""
        return self.answered + self.abandoned + self.callbacks + self.overflowed + self.transferred


def formula_level(formula: ServiceLevelFormula, f: WindowFigures) -> float | None:
    """The service level of the figures by one formula; None when it has no denominator."""
    match formula:
        case ServiceLevelFormula.ANSWERED_OVER_ANSWERED_ABANDONED_LONG:
            return _ratio(f.answered_within, f.answered + f.abandoned - f.short_abandoned)
        case ServiceLevelFormula.ANSWERED_OVER_ANSWERED:
            return _ratio(f.answered_within, f.answered)
        case ServiceLevelFormula.ASTERISK_SL2:
            return _ratio(f.answered_within + f.abandoned_within, f.answered + f.abandoned)
        case ServiceLevelFormula.CISCO_IGNORE:
            return _ratio(f.answered_within, f.left_queue - f.abandoned_within)
        case ServiceLevelFormula.CISCO_NEGATIVE:
            return _ratio(f.answered_within, f.left_queue)
        case ServiceLevelFormula.AMAZON_CONNECT:
            within = f.answered_within + f.abandoned_within + f.callbacks_within
            return _ratio(within, f.left_queue)


def interval_start(at: float) -> float:
    """The start of the 15-minute interval holding `at`."""
    return math.floor(at / INTERVAL_SECONDS) * INTERVAL_SECONDS


class QueueStatistics:
    """Outcomes of one queue over the last day, answered for any window inside it."""

    RETENTION_SECONDS = 24 * 3600.0
    EXPORT_VERSION = 1
    _TOTALS = (
        "offered_total",
        "answered_total",
        "abandoned_total",
        "callbacks_total",
        "overflowed_total",
        "transferred_total",
        "callbacks_connected_total",
        "callbacks_dropped_total",
    )

    def __init__(
        self,
        threshold_seconds: float,
        short_abandon_seconds: float,
        formula: ServiceLevelFormula = ServiceLevelFormula.ANSWERED_OVER_ANSWERED_ABANDONED_LONG,
    ) -> None:
        self.threshold_seconds = threshold_seconds
        self.short_abandon_seconds = short_abandon_seconds
        self.formula = formula
        self._offered: deque[float] = deque()
        self._outcomes: deque[_Record] = deque()
        self._handled: deque[tuple[float, float]] = deque()
        #: Counters since start (or since the statistics were first saved), never windowed.
        self.offered_total = 0
        self.answered_total = 0
        self.abandoned_total = 0
        self.callbacks_total = 0
        self.overflowed_total = 0
        self.transferred_total = 0
        self.callbacks_connected_total = 0
        self.callbacks_dropped_total = 0
        self._ewt_error_sum = 0.0
        self._ewt_samples = 0
        #: Handle times kept that are not 0 or more (a clock stepped back, an odd export).
        self._odd_handled = 0

    # ----- recording -------------------------------------------------------------------

    def record_offered(self, at: float | None = None) -> None:
        """A call entered the queue; without a time it only counts in the total."""
        self.offered_total += 1
        if at is not None:
            self._offered.append(at)
            self._prune(at)

    def record_answered(self, at: float, wait: float) -> None:
        self.answered_total += 1
        self._record(at, Outcome.ANSWERED, wait)

    def record_abandoned(self, at: float, wait: float) -> None:
        self.abandoned_total += 1
        self._record(at, Outcome.ABANDONED, wait)

    def record_callback(self, at: float, wait: float) -> None:
        """The caller left the line for a callback; never an abandon."""
        self.callbacks_total += 1
        self._record(at, Outcome.CALLBACK, wait)

    def record_overflowed(self, at: float, wait: float) -> None:
        self.overflowed_total += 1
        self._record(at, Outcome.OVERFLOWED, wait)

    def record_transferred(self, at: float, wait: float) -> None:
        self.transferred_total += 1
        self._record(at, Outcome.TRANSFERRED, wait)

    def record_callback_connected(self) -> None:
        self.callbacks_connected_total += 1

    def record_callback_dropped(self) -> None:
        self.callbacks_dropped_total += 1

    def record_handled(self, at: float, handle_seconds: float) -> None:
        self._handled.append((at, handle_seconds))
        self._odd_handled += not handle_seconds >= 0
        self._prune(at)

    def handle_times_non_negative(self) -> bool:
        """Every handle time kept is 0 or more, so any AHT taken from them is too."""
        return self._odd_handled == 0

    def record_estimate_error(self, error_seconds: float) -> None:
        """How far the wait estimated on arrival was from the real wait of an answered call."""
        self._ewt_error_sum += abs(error_seconds)
        self._ewt_samples += 1

    @property
    def ewt_mae_seconds(self) -> float | None:
        """Mean absolute error of the wait estimates, over every answered call estimated."""
        return self._ewt_error_sum / self._ewt_samples if self._ewt_samples else None

    def is_short_abandon(self, wait: float) -> bool:
        return wait < self.short_abandon_seconds

    # ----- figures ---------------------------------------------------------------------

    def window(self, now: float, seconds: float) -> WindowFigures:
        """The figures of the rolling window (now - seconds, now], both ends included."""
        return self._figures(now - seconds, math.inf)

    def since(self, start: float) -> WindowFigures:
        """The figures from `start` (e.g. local midnight) on, `start` included."""
        return self._figures(start, math.inf)

    def aht_seconds(self, now: float, seconds: float) -> float | None:
        """`window(now, seconds).aht_seconds` without the other figures: the wait estimate
        asks for it on every arrival. Handled calls are recorded at the clock's now, so
        oldest first; the sum runs newest first, as in `_figures`, for the same result."""
        since = now - seconds
        count = len(self._handled) - bisect_left(self._handled, since, key=itemgetter(0))
        if not count:
            return None
        newest_first: Iterator[float] = islice(map(itemgetter(1), reversed(self._handled)), count)
        return sum(newest_first) / count

    def interval(self, start: float) -> WindowFigures:
        """The figures of the 15-minute interval starting at `start` (see `interval_start`)."""
        return self._figures(start, start + INTERVAL_SECONDS)

    def intervals(self, now: float, count: int = 96) -> list[tuple[float, WindowFigures]]:
        """The last `count` intervals up to the current one, oldest first."""
        current = interval_start(now)
        starts = [current - n * INTERVAL_SECONDS for n in range(count - 1, -1, -1)]
        return [(start, self.interval(start)) for start in starts]

    def _figures(self, since: float, until: float) -> WindowFigures:
        counts = dict.fromkeys(Outcome, 0)
        answered_within = abandoned_within = callbacks_within = short = 0
        total_wait = 0.0
        for record in reversed(self._outcomes):
            if record.at < since:
                break
            if record.at >= until:
                continue
            counts[record.outcome] += 1
            within = record.wait <= self.threshold_seconds
            match record.outcome:
                case Outcome.ANSWERED:
                    total_wait += record.wait
                    answered_within += within
                case Outcome.ABANDONED:
                    abandoned_within += within
                    short += self.is_short_abandon(record.wait)
                case Outcome.CALLBACK:
                    callbacks_within += within
                case _:
                    pass
        handled = []
        for at, seconds in reversed(self._handled):
            if at < since:
                break
            if at < until:
                handled.append(seconds)
        answered, abandoned = counts[Outcome.ANSWERED], counts[Outcome.ABANDONED]
        figures = WindowFigures(
            answered=answered,
            answered_within=answered_within,
            abandoned=abandoned,
            short_abandoned=short,
            asa_seconds=total_wait / answered if answered else None,
            aht_seconds=sum(handled) / len(handled) if handled else None,
            service_level=None,
            offered=_count_between(self._offered, since, until),
            abandoned_within=abandoned_within,
            callbacks=counts[Outcome.CALLBACK],
            callbacks_within=callbacks_within,
            overflowed=counts[Outcome.OVERFLOWED],
            transferred=counts[Outcome.TRANSFERRED],
        )
        return _with_levels(figures, self.formula)

    # ----- persistence -----------------------------------------------------------------

    def export(self) -> dict[str, Any]:
        """Everything the statistics hold, as JSON-able data for `restore`."""
        return {
            "version": self.EXPORT_VERSION,
            "totals": {name: getattr(self, name) for name in self._TOTALS},
            "offered": list(self._offered),
            "outcomes": [[r.at, r.outcome.value, r.wait] for r in self._outcomes],
            "handled": [[at, seconds] for at, seconds in self._handled],
            "ewt_errors": [self._ewt_error_sum, self._ewt_samples],
        }

    def restore(self, data: Mapping[str, Any]) -> None:
        """Replace what the statistics hold by an `export`, e.g. the one saved before a restart.

        Thresholds and formula stay those of the current configuration: the saved
        outcomes are re-read with them.
        """
        try:
            if data["version"] != self.EXPORT_VERSION:
                raise InvalidSetting(f"statistics export version {data['version']!r}")
            totals = {name: int(data["totals"][name]) for name in self._TOTALS}
            offered = deque(float(at) for at in data["offered"])
            outcomes = deque(
                _Record(float(at), Outcome(kind), float(wait))
                for at, kind, wait in data["outcomes"]
            )
            handled = deque((float(at), float(s)) for at, s in data["handled"])
            error_sum, samples = data["ewt_errors"]
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidSetting(f"not a statistics export: {exc}") from None
        for name, value in totals.items():
            setattr(self, name, value)
        self._offered, self._outcomes, self._handled = offered, outcomes, handled
        self._odd_handled = sum(not seconds >= 0 for _, seconds in handled)
        self._ewt_error_sum, self._ewt_samples = float(error_sum), int(samples)

    # ----- internals -------------------------------------------------------------------

    def _record(self, at: float, outcome: Outcome, wait: float) -> None:
        self._outcomes.append(_Record(at, outcome, wait))
        self._prune(at)

    def _prune(self, now: float) -> None:
        horizon = now - self.RETENTION_SECONDS
        while self._offered and self._offered[0] < horizon:
            self._offered.popleft()
        while self._outcomes and self._outcomes[0].at < horizon:
            self._outcomes.popleft()
        while self._handled and self._handled[0][0] < horizon:
            self._odd_handled -= not self._handled.popleft()[1] >= 0


def _count_between(times: deque[float], since: float, until: float) -> int:
    """How many of the times (oldest first) fall in [since, until)."""
    count = 0
    for at in reversed(times):
        if at < since:
            break
        count += at < until
    return count


def _with_levels(figures: WindowFigures, formula: ServiceLevelFormula) -> WindowFigures:
    return replace(
        figures,
        service_level=formula_level(formula, figures),
        abandon_rate=_ratio(figures.abandoned, figures.left_queue),
    )
