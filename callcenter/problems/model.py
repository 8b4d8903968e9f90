"""Problem management and first-contact resolution, from facts about tickets.

- `propose_problems`: repeated incidents are analysed for root cause (MISSION.md). When
  N or more recent incidents share a configuration item, a model or a category, a
  problem listing them is proposed; a person decides whether to open it.
- `first_contact_resolution` / `first_visit_resolution`: the share of problems solved in
  the first service contact (standard clients, target 70%) and in the first on-site
  visit (premium clients, target 85%).

Pure functions over plain records; the caller queries the database.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

DEFAULT_THRESHOLD = 3
DEFAULT_WINDOW = timedelta(days=30)
STANDARD_FCR_TARGET = 0.70
PREMIUM_FIRST_VISIT_TARGET = 0.85


class Dimension(enum.StrEnum):
    """What the incidents of a proposal share, most specific first."""

    CONFIGURATION_ITEM = "configuration_item"
    MODEL = "model"
    CATEGORY = "category"


@dataclass(frozen=True)
class IncidentFact:
    id: int
    created_at: datetime
    configuration_item: str | None = None  # device id or asset number
    model: str | None = None
    category: str | None = None
    problem_id: int | None = None  # already linked to a problem: not proposed again


@dataclass(frozen=True)
class ProblemProposal:
    dimension: Dimension
    key: str  # the shared value (models and categories compared case-insensitively)
    incident_ids: tuple[int, ...]  # oldest first
    first_at: datetime
    last_at: datetime

    @property
    def count(self) -> int:
        return len(self.incident_ids)


def propose_problems(
    incidents: Iterable[IncidentFact],
    now: datetime,
    threshold: int = DEFAULT_THRESHOLD,
    window: timedelta = DEFAULT_WINDOW,
) -> list[ProblemProposal]:
    """Problems to propose from the incidents created within `window` before `now`.

    The window is inclusive (`now - window <= created_at`); an incident dated after
    `now` (a clock running ahead) counts as recent. Incidents already linked to a
    problem are left out. A group that is the same set of incidents as, or a subset of,
    a group already proposed on a more specific dimension is not proposed again
    (three incidents of one PC would otherwise also come back as their model).
    Ordered by dimension, then by size (largest first), then by key.
    """
    if threshold < 1:
        raise ValueError(f"threshold {threshold}: must be at least 1")
    if window <= timedelta(0):
        raise ValueError(f"window {window}: must be positive")
    if now.tzinfo is None:
        raise ValueError(f"naive datetime {now.isoformat()}: times must be aware")
    oldest = now - window
    recent = [i for i in incidents if i.problem_id is None and i.created_at >= oldest]
    proposals: list[ProblemProposal] = []
    for dimension in Dimension:
        groups: dict[str, list[IncidentFact]] = {}
        for incident in recent:
            key = _key(incident, dimension)
            if key is not None:
                groups.setdefault(key, []).append(incident)
        found: list[ProblemProposal] = []
        for key, members in groups.items():
            if len(members) < threshold:
                continue
            members.sort(key=lambda i: (i.created_at, i.id))
            ids = frozenset(i.id for i in members)
            if any(ids <= set(p.incident_ids) for p in proposals):
                continue
            found.append(
                ProblemProposal(
                    dimension,
                    key,
                    tuple(i.id for i in members),
                    members[0].created_at,
                    members[-1].created_at,
                )
            )
        found.sort(key=lambda p: (-p.count, p.key))
        proposals.extend(found)
    return proposals


def _key(incident: IncidentFact, dimension: Dimension) -> str | None:
    if dimension is Dimension.CONFIGURATION_ITEM:
        raw = incident.configuration_item
        return raw.strip() or None if raw is not None else None
    raw = incident.model if dimension is Dimension.MODEL else incident.category
    if raw is None:
        return None
    return " ".join(raw.split()).casefold() or None


def incident_keys(incident: IncidentFact) -> list[tuple[Dimension, str]]:
    """The (dimension, normalised key) pairs of an incident, most specific first: what
    it is matched on against open problems and known errors."""
    keys: list[tuple[Dimension, str]] = []
    for dimension in Dimension:
        key = _key(incident, dimension)
        if key is not None:
            keys.append((dimension, key))
    return keys


def problem_key(dimension: Dimension | str, key: str) -> str:
    """The idempotence key of a problem: one open problem per dimension and key.

    The key is normalised as `propose_problems` groups it (a configuration item
    stripped; a model or a category with its blanks collapsed and case folded), so
    "ThinkPad  T14" and "thinkpad t14" are the same problem.
    """
    d = Dimension(dimension)
    fact = IncidentFact(0, datetime.min, key, key, key)
    normalised = _key(fact, d)
    if normalised is None:
        raise ValueError(f"problem key of {d.value}: empty")
    return f"{d.value}:{normalised}"


@dataclass(frozen=True)
class ScanPlan:
    """What one problem scan does: link incidents to open problems, open new ones."""

    #: Open problem (ticket id) -> incidents to link to it, oldest first.
    link: dict[int, tuple[int, ...]]
    #: Proposals no open problem covers: each becomes a new problem.
    create: list[ProblemProposal]


def plan_scan(
    incidents: Iterable[IncidentFact],
    open_problems: Mapping[str, int],
    now: datetime,
    threshold: int = DEFAULT_THRESHOLD,
    window: timedelta = DEFAULT_WINDOW,
) -> ScanPlan:
    """Decide a scan: `open_problems` maps `problem_key` to the open problem's ticket id.

    A recent unlinked incident that shares a key with an open problem is linked to it
    (its most specific match), whatever the threshold: the problem exists already.
    The rest go through `propose_problems`; a proposal whose key has an open problem
    (possible when its incidents matched nothing more specific) is linked there too,
    never opened twice. Running the plan and scanning again yields an empty plan.
    """
    if now.tzinfo is None:
        raise ValueError(f"naive datetime {now.isoformat()}: times must be aware")
    oldest = now - window
    link: dict[int, list[int]] = {}
    rest: list[IncidentFact] = []
    for incident in sorted(incidents, key=lambda i: (i.created_at, i.id)):
        if incident.problem_id is not None:
            continue
        match = next(
            (
                open_problems[problem_key(d, k)]
                for d, k in incident_keys(incident)
                if problem_key(d, k) in open_problems
            ),
            None,
        )
        if match is not None and incident.created_at >= oldest:
            link.setdefault(match, []).append(incident.id)
        else:
            rest.append(incident)
    create: list[ProblemProposal] = []
    for proposal in propose_problems(rest, now, threshold, window):
        existing = open_problems.get(problem_key(proposal.dimension, proposal.key))
        if existing is None:
            create.append(proposal)
        else:
            link.setdefault(existing, []).extend(proposal.incident_ids)
    return ScanPlan({p: tuple(dict.fromkeys(ids)) for p, ids in link.items()}, create)


# -- first-contact resolution ---------------------------------------------------------------


@dataclass(frozen=True)
class ResolutionFact:
    """How one resolved ticket was solved (cancelled tickets are not passed in)."""

    ticket_id: int
    #: Service contacts up to resolution: answered calls and on-site visits together.
    contacts: int
    onsite_visits: int = 0
    reopened: bool = False  # a reopened ticket was not solved the first time


@dataclass(frozen=True)
class ResolutionShare:
    measure: str
    solved_first_time: int
    counted: int
    target: float

    @property
    def share(self) -> float | None:
        """None when no ticket counted (no evidence either way)."""
        return None if self.counted == 0 else self.solved_first_time / self.counted

    @property
    def met(self) -> bool | None:
        share = self.share
        return None if share is None else share >= self.target


def first_contact_resolution(
    facts: Iterable[ResolutionFact], target: float = STANDARD_FCR_TARGET
) -> ResolutionShare:
    """Standard clients: share of resolved tickets solved in the first service contact
    (one contact, usually the call itself) and never reopened."""
    counted = solved = 0
    for fact in facts:
        _check(fact)
        counted += 1
        if fact.contacts == 1 and not fact.reopened:
            solved += 1
    return ResolutionShare("first_contact_resolution", solved, counted, target)


def first_visit_resolution(
    facts: Iterable[ResolutionFact], target: float = PREMIUM_FIRST_VISIT_TARGET
) -> ResolutionShare:
    """Premium clients: among resolved tickets that needed on-site work, the share solved
    at the first visit and never reopened."""
    counted = solved = 0
    for fact in facts:
        _check(fact)
        if fact.onsite_visits == 0:
            continue
        counted += 1
        if fact.onsite_visits == 1 and not fact.reopened:
            solved += 1
    return ResolutionShare("first_visit_resolution", solved, counted, target)


def _check(fact: ResolutionFact) -> None:
    if fact.contacts < 1 or fact.onsite_visits < 0 or fact.onsite_visits > fact.contacts:
        raise ValueError(
            f"ticket {fact.ticket_id}: {fact.contacts} contacts with "
            f"{fact.onsite_visits} on-site visits is impossible"
        )


@dataclass(frozen=True)
class KnownError:
    """A workaround an agent should see for an incident on the same item, model or category."""

    problem_id: int
    dimension: Dimension
    key: str
    subject: str
    workaround: str
