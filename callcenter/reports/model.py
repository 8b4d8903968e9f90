"""The monthly client report's figures, computed from plain rows.

The account manager reviews the month with the client: how many requests and of what
kind, how fast the phone was picked up, how many problems were solved at the first
contact or visit, how the SLA clocks fared, how long resolution took, which items and
models keep failing and which warranties are about to end. Everything here is pure;
`report_query` gathers the rows and `report_render` writes the files.

Months are calendar months in UTC. A figure with nothing to divide by is None: an empty
month is not a 100 % month.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from callcenter.problems.model import (
    STANDARD_FCR_TARGET,
    ResolutionFact,
    ResolutionShare,
    first_visit_resolution,
)

#: Months shown in the requests-per-month series, the report's month last.
HISTORY_MONTHS = 12
#: Warranties ending this many days after the month are listed.
WARRANTY_HORIZON_DAYS = 90
#: Faults listed per item and per model; an item or model must have failed this often.
TOP_FAULTS = 10
REPEATED = 2
#: Service level threshold of a queue the settings do not know (the ACD's default).
DEFAULT_THRESHOLD_SECONDS = 20.0
UNCATEGORISED = "(none)"
INCIDENT = "incident"
#: Call outcomes of calls that never reached a queue or are not over yet.
_NOT_OFFERED = frozenset({"in_progress", "ivr_hangup", "refused"})
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
MIN_YEAR, MAX_YEAR = 1970, 9998


class ReportError(ValueError):
    """Bad input to the report (one line for the operator)."""


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        """`2026-11` -> Month(2026, 11)."""
        match = _MONTH.match(text.strip())
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise ReportError(f"month {text!r}: expected YYYY-MM, e.g. 2026-11")
        year = int(match.group(1))
        if not MIN_YEAR <= year <= MAX_YEAR:  # the history and the horizon stay in range
            raise ReportError(f"month {text!r}: the year must be from {MIN_YEAR} to {MAX_YEAR}")
        return cls(year, int(match.group(2)))

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """The first instant after the month."""
        return self.next().start

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Month:
        return Month(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    def history(self, count: int = HISTORY_MONTHS) -> list[Month]:
        """The `count` months ending with this one, oldest first."""
        months = [self]
        while len(months) < count:
            months.append(months[-1].previous())
        return months[::-1]

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    @classmethod
    def of(cls, moment: datetime) -> Month:
        moment = moment.astimezone(UTC)
        return cls(moment.year, moment.month)


# -- rows in -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TicketRow:
    id: int
    kind: str
    status: str
    category: str | None
    created_at: datetime
    resolved_at: datetime | None
    reopen_count: int = 0
    contacts: int = 0
    onsite_visits: int = 0
    first_contact_resolved: bool | None = None
    #: The configuration item it was filed against (its name) and that item's model.
    item: str | None = None
    model: str | None = None


@dataclass(frozen=True)
class CallRow:
    queue: str | None
    outcome: str
    enqueued: bool
    answered: bool
    pickup_latency_seconds: float | None


@dataclass(frozen=True)
class ClockRow:
    ticket_id: int
    kind: str
    #: "met", "breached" or "open" (running or paused, in time so far).
    state: str


@dataclass(frozen=True)
class AssetRow:
    asset_tag: str
    name: str
    type: str
    model: str | None
    owner: str | None
    warranty_end: date


@dataclass(frozen=True)
class ReportInputs:
    organisation: str
    month: Month
    #: The organisation's tickets created in the last HISTORY_MONTHS months or resolved in
    #: the month (either may be in both).
    tickets: Sequence[TicketRow]
    #: The organisation's employees' calls that arrived in the month.
    calls: Sequence[CallRow]
    #: The SLA clocks of the tickets created in the month, as of the month's end.
    clocks: Sequence[ClockRow]
    #: The organisation's assets whose warranty ends in the horizon after the month.
    assets: Sequence[AssetRow]
    #: Queue name -> its service-level threshold in seconds.
    thresholds: Mapping[str, float]


# -- figures out ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceLevel:
    offered: int
    answered: int
    answered_within: int

    @property
    def share(self) -> float | None:
        return ratio(self.answered_within, self.offered)


@dataclass(frozen=True)
class SlaCompliance:
    kind: str
    met: int
    breached: int
    open: int

    @property
    def share(self) -> float | None:
        """Met over met plus breached; open clocks are not judged yet."""
        return ratio(self.met, self.met + self.breached)


@dataclass(frozen=True)
class ResolveTime:
    resolved: int
    mean_hours: float | None
    p90_hours: float | None


@dataclass(frozen=True)
class MonthlyReport:
    organisation: str
    month: Month
    requests_per_month: list[tuple[str, int]]
    requests_per_category: list[tuple[str, int]]
    service_level: ServiceLevel
    first_contact: ResolutionShare
    first_visit: ResolutionShare
    sla: list[SlaCompliance]
    resolve_time: ResolveTime
    top_items: list[tuple[str, int]]
    top_models: list[tuple[str, int]]
    warranty_ending: list[AssetRow]

    @property
    def requests(self) -> int:
        return self.requests_per_month[-1][1] if self.requests_per_month else 0


def ratio(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole


def percentile(values: Iterable[float], p: float) -> float | None:
    """The p-th percentile (0-100), interpolating between closest ranks (as a spreadsheet's
    PERCENTILE.INC); None for no values."""
    if not 0 <= p <= 100:
        raise ValueError(f"percentile {p}: must be from 0 to 100")
    ordered = sorted(values)
    if not ordered:
        return None
    rank = (len(ordered) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def compute(inputs: ReportInputs) -> MonthlyReport:
    month = inputs.month
    months = month.history()
    per_month = Counter(str(Month.of(t.created_at)) for t in inputs.tickets)
    created = [t for t in inputs.tickets if month.contains(t.created_at)]
    resolved = [
        t
        for t in inputs.tickets
        if t.resolved_at is not None and month.contains(t.resolved_at) and t.status != "cancelled"
    ]
    categories = Counter(t.category or UNCATEGORISED for t in created)
    return MonthlyReport(
        organisation=inputs.organisation,
        month=month,
        requests_per_month=[(str(m), per_month.get(str(m), 0)) for m in months],
        requests_per_category=sorted(categories.items(), key=lambda kv: (-kv[1], kv[0])),
        service_level=service_level(inputs.calls, inputs.thresholds),
        first_contact=first_contact(resolved),
        first_visit=first_visit_resolution(_resolution_facts(resolved)),
        sla=sla_compliance(inputs.clocks),
        resolve_time=resolve_time(resolved),
        top_items=top_faults(t.item for t in created),
        top_models=top_faults(t.model for t in created),
        warranty_ending=sorted(inputs.assets, key=lambda a: (a.warranty_end, a.asset_tag)),
    )


def service_level(calls: Iterable[CallRow], thresholds: Mapping[str, float]) -> ServiceLevel:
    """Calls answered within their queue's threshold over calls offered to a queue (those
    that reached one and are over; a callback's later answer is not a pickup)."""
    offered = answered = within = 0
    for call in calls:
        if not call.enqueued or call.outcome in _NOT_OFFERED:
            continue
        offered += 1
        if not call.answered or call.outcome == "called_back":
            continue
        answered += 1
        limit = thresholds.get(call.queue or "", DEFAULT_THRESHOLD_SECONDS)
        if call.pickup_latency_seconds is not None and call.pickup_latency_seconds <= limit:
            within += 1
    return ServiceLevel(offered, answered, within)


def first_contact(
    resolved: Iterable[TicketRow], target: float = STANDARD_FCR_TARGET
) -> ResolutionShare:
    """Incidents resolved in the month whose agent said "solved on the first contact", over
    those with a verdict (a ticket the agent said nothing about is no evidence)."""
    counted = solved = 0
    for ticket in resolved:
        if ticket.kind != INCIDENT or ticket.first_contact_resolved is None:
            continue
        counted += 1
        solved += ticket.first_contact_resolved and ticket.reopen_count == 0
    return ResolutionShare("first_contact_resolution", solved, counted, target)


def _resolution_facts(resolved: Iterable[TicketRow]) -> list[ResolutionFact]:
    """A resolved ticket had at least one contact, and every visit was one; tickets opened
    by hand (no call counted) are brought to that rather than refused."""
    return [
        ResolutionFact(
            t.id,
            max(t.contacts, t.onsite_visits, 1),
            max(t.onsite_visits, 0),
            t.reopen_count > 0,
        )
        for t in resolved
    ]


def sla_compliance(clocks: Iterable[ClockRow]) -> list[SlaCompliance]:
    counts: dict[str, Counter[str]] = {}
    for clock in clocks:
        if clock.state not in ("met", "breached", "open"):
            raise ValueError(f"ticket {clock.ticket_id} {clock.kind}: state {clock.state!r}")
        counts.setdefault(clock.kind, Counter())[clock.state] += 1
    order = ["first_response", "onsite_arrival", "resolution"]
    kinds = sorted(counts, key=lambda k: (order.index(k) if k in order else len(order), k))
    return [
        SlaCompliance(k, counts[k]["met"], counts[k]["breached"], counts[k]["open"]) for k in kinds
    ]


def resolve_time(resolved: Iterable[TicketRow]) -> ResolveTime:
    hours = [
        (t.resolved_at - t.created_at) / timedelta(hours=1)
        for t in resolved
        if t.resolved_at is not None
    ]
    hours = [max(h, 0.0) for h in hours]
    mean = sum(hours) / len(hours) if hours else None
    return ResolveTime(len(hours), mean, percentile(hours, 90))


def top_faults(keys: Iterable[str | None], limit: int = TOP_FAULTS) -> list[tuple[str, int]]:
    """Items or models with at least REPEATED tickets, most first (ties by name)."""
    counts = Counter(" ".join(k.split()) for k in keys if k and k.strip())
    repeated = [(k, n) for k, n in counts.items() if n >= REPEATED]
    return sorted(repeated, key=lambda kv: (-kv[1], kv[0]))[:limit]


def warranty_window(month: Month) -> tuple[date, date]:
    """First and last day of the warranty horizon after the month."""
    first = month.end.date()
    return first, first + timedelta(days=WARRANTY_HORIZON_DAYS - 1)
