"""Erlang C: how many agents a queue needs to answer a share of calls within a threshold.

Pure arithmetic, no I/O: the CLI, the REST API and the service-desk sizing all call it.

Erlang B comes from its recurrence B(0) = 1, B(n) = A·B(n-1) / (n + A·B(n-1)) and Erlang C
from it, C = N·B / (N - A·(1 - B)). Every intermediate value lies in [0, 1], so a desk of
a thousand Erlangs is as exact as one of ten; the textbook form with A^N / N! overflows a
float from about 170 agents on.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

#: Beyond this the O(N) search gets slow for a request handler, and no desk is this big.
MAX_TRAFFIC_ERLANGS = 10_000.0
#: The search walks one agent count a step; it never walks past this. With the traffic
#: and occupancy bounds below, the largest accepted question needs about 20,300 steps.
MAX_AGENTS = 25_000
#: An occupancy cap below this is a typo (0.85 meant, 0.0085 typed): desks cap at 75-90%.
MIN_OCCUPANCY_CAP = 0.5
#: Sane ranges of the time parameters, in seconds: a day's interval, a four-hour call.
MAX_INTERVAL_MINUTES = 24 * 60
MAX_AHT_SECONDS = 4 * 3600
MAX_ANSWER_WITHIN_SECONDS = 3600
#: Rows either side of the chosen agent count in a report's table.
TABLE_SPREAD = 3
#: Float noise forgiven before rounding up: 21 / (1 - 0.3) is 30.000000000000004, not 31.
_CEIL_SLACK = 1e-9


class InvalidInput(ValueError):
    """A parameter out of its range; `parameter` lets each front end use its own name."""

    def __init__(self, parameter: str, reason: str) -> None:
        super().__init__(f"{parameter}: {reason}")
        self.parameter = parameter
        self.reason = reason


@dataclass(frozen=True)
class Workload:
    """Calls offered in one interval, and the service level they should get."""

    calls: float
    interval_minutes: float
    aht_seconds: float
    answer_within_seconds: float
    #: Share of calls to answer within `answer_within_seconds`, e.g. 0.8.
    target: float
    #: Share of paid time agents are off the phones (breaks, training, absence).
    shrinkage: float = 0.0
    #: Busiest an agent may be kept, e.g. 0.85; None for no limit beyond stability.
    max_occupancy: float | None = None

    def __post_init__(self) -> None:
        require_positive("calls", self.calls)
        require_positive("interval_minutes", self.interval_minutes)
        require_at_most("interval_minutes", self.interval_minutes, MAX_INTERVAL_MINUTES)
        require_positive("aht_seconds", self.aht_seconds)
        require_at_most("aht_seconds", self.aht_seconds, MAX_AHT_SECONDS)
        require_finite("answer_within_seconds", self.answer_within_seconds)
        if self.answer_within_seconds < 0:
            raise InvalidInput("answer_within_seconds", "must not be negative")
        require_at_most(
            "answer_within_seconds", self.answer_within_seconds, MAX_ANSWER_WITHIN_SECONDS
        )
        require_finite("target", self.target)
        if not 0 < self.target < 1:
            raise InvalidInput("target", "must be a share strictly between 0 and 1, e.g. 0.8")
        require_finite("shrinkage", self.shrinkage)
        if not 0 <= self.shrinkage < 1:
            raise InvalidInput("shrinkage", "must be a share from 0 up to (not including) 1")
        if self.max_occupancy is not None:
            require_finite("max_occupancy", self.max_occupancy)
            if not MIN_OCCUPANCY_CAP <= self.max_occupancy <= 1:
                raise InvalidInput(
                    "max_occupancy", f"must be a share from {MIN_OCCUPANCY_CAP} to 1, e.g. 0.85"
                )
        if self.traffic_erlangs > MAX_TRAFFIC_ERLANGS:
            raise InvalidInput(
                "calls",
                f"{self.traffic_erlangs:.0f} Erlangs of traffic is above the "
                f"{MAX_TRAFFIC_ERLANGS:.0f} this calculator sizes",
            )

    @property
    def traffic_erlangs(self) -> float:
        return traffic_intensity(self.calls, self.interval_minutes * 60, self.aht_seconds)


@dataclass(frozen=True)
class StaffingLevel:
    """How a queue behaves with a given number of agents on the phones."""

    agents: int
    wait_probability: float
    service_level: float
    #: None when the queue is unstable (agents <= traffic): the wait grows without bound.
    asa_seconds: float | None
    occupancy: float

    @property
    def stable(self) -> bool:
        return self.asa_seconds is not None


@dataclass(frozen=True)
class Requirement:
    """The smallest agent count meeting the workload's targets, and what to schedule."""

    workload: Workload
    level: StaffingLevel
    #: Agents to put on the rota so that `level.agents` are on the phones after shrinkage.
    scheduled_agents: int
    #: Which target set the count; occupancy only when it asks for more than service level.
    limited_by: Literal["service_level", "max_occupancy"]

    @property
    def agents(self) -> int:
        return self.level.agents


def traffic_intensity(calls: float, interval_seconds: float, aht_seconds: float) -> float:
    """Offered load in Erlangs: the agents that would be busy all the time on average."""
    require_finite("calls", calls)
    if calls < 0:
        raise InvalidInput("calls", "must not be negative")
    require_positive("interval_seconds", interval_seconds)
    require_positive("aht_seconds", aht_seconds)
    return calls * aht_seconds / interval_seconds


def erlang_b(agents: int, traffic: float) -> float:
    """Probability that a call finds every agent busy in a loss system (Erlang B)."""
    _check_agents(agents)
    _check_traffic(traffic)
    for n, blocking in _erlang_b_series(traffic):
        if n == agents:
            return blocking
    raise AssertionError("the Erlang B series is endless")  # pragma: no cover


def erlang_c(agents: int, traffic: float) -> float:
    """Probability that a call has to wait (Erlang C); 1 when the queue is unstable."""
    _check_agents(agents)
    _check_traffic(traffic)
    return _wait_probability(agents, traffic, erlang_b(agents, traffic))


def service_level(agents: int, traffic: float, aht_seconds: float, within_seconds: float) -> float:
    """P(wait <= within_seconds) = 1 - C·e^(-(N - A)·T / AHT); 0 when unstable."""
    return staffing_level(agents, traffic, aht_seconds, within_seconds).service_level


def average_speed_of_answer(agents: int, traffic: float, aht_seconds: float) -> float | None:
    """Mean wait over all calls, C·AHT / (N - A); None when unstable (no finite mean)."""
    return staffing_level(agents, traffic, aht_seconds, 0.0).asa_seconds


def occupancy(agents: int, traffic: float) -> float:
    """Share of time agents are on calls, A / N, at most 1 (an overloaded desk is all busy)."""
    _check_agents(agents)
    _check_traffic(traffic)
    return min(1.0, traffic / agents)


def staffing_level(
    agents: int, traffic: float, aht_seconds: float, within_seconds: float
) -> StaffingLevel:
    """Wait probability, service level, ASA and occupancy for one agent count."""
    _check_agents(agents)
    _check_traffic(traffic)
    require_positive("aht_seconds", aht_seconds)
    return _level(agents, traffic, erlang_b(agents, traffic), aht_seconds, within_seconds)


def required_agents(workload: Workload) -> Requirement:
    """The smallest agent count meeting the service level and the occupancy cap."""
    traffic = workload.traffic_erlangs
    floor = 1
    if workload.max_occupancy is not None:
        # N >= A / max_occupancy, with float noise not costing an extra agent.
        floor = max(1, _ceil(traffic / workload.max_occupancy))
    # Walk the recurrence once: each count costs one step, not a fresh O(N) pass.
    previous: StaffingLevel | None = None
    for n, blocking in _erlang_b_series(traffic):
        if n > MAX_AGENTS:
            raise InvalidInput("calls", f"needs more than {MAX_AGENTS} agents; too big to size")
        level = _level(n, traffic, blocking, workload.aht_seconds, workload.answer_within_seconds)
        if n >= floor and level.service_level >= workload.target:
            # Only the cap can have held back a count whose predecessor met the target.
            capped = previous is not None and previous.service_level >= workload.target
            return Requirement(
                workload,
                level,
                scheduled_agents(n, workload.shrinkage),
                "max_occupancy" if capped else "service_level",
            )
        previous = level
    raise AssertionError("the Erlang B series is endless")  # pragma: no cover


def scheduled_agents(agents: int, shrinkage: float) -> int:
    """Agents on the rota so that `agents` remain after shrinkage: ceil(N / (1 - s))."""
    _check_agents(agents)
    require_finite("shrinkage", shrinkage)
    if not 0 <= shrinkage < 1:
        raise InvalidInput("shrinkage", "must be a share from 0 up to (not including) 1")
    return _ceil(agents / (1 - shrinkage))


def levels(workload: Workload, first: int, last: int) -> list[StaffingLevel]:
    """One row per agent count from `first` to `last` inclusive."""
    _check_agents(first)
    if last < first:
        raise InvalidInput("last", "must not be below first")
    if last > MAX_AGENTS + TABLE_SPREAD:
        raise InvalidInput("last", f"must be at most {MAX_AGENTS + TABLE_SPREAD}")
    traffic = workload.traffic_erlangs
    rows = []
    for n, blocking in _erlang_b_series(traffic):
        if n >= first:
            rows.append(
                _level(n, traffic, blocking, workload.aht_seconds, workload.answer_within_seconds)
            )
        if n == last:
            return rows
    raise AssertionError("the Erlang B series is endless")  # pragma: no cover


def table_around(requirement: Requirement, spread: int = TABLE_SPREAD) -> list[StaffingLevel]:
    """Rows from `spread` below the chosen count (but not into instability) to `spread` above."""
    traffic = requirement.workload.traffic_erlangs
    smallest_stable = math.floor(traffic) + 1
    first = max(smallest_stable, requirement.agents - spread, 1)
    return levels(requirement.workload, first, requirement.agents + spread)


def level_view(level: StaffingLevel, target: float | None = None) -> dict[str, Any]:
    """A JSON-ready row; `meets_target` only when a target is given."""
    view: dict[str, Any] = {
        "agents": level.agents,
        "wait_probability": level.wait_probability,
        "service_level": level.service_level,
        "asa_seconds": level.asa_seconds,
        "occupancy": level.occupancy,
    }
    if target is not None:
        view["meets_target"] = level.service_level >= target
    return view


def requirement_view(requirement: Requirement) -> dict[str, Any]:
    """What the CLI's --json and the REST API return: one shape for both."""
    w = requirement.workload
    return {
        "inputs": {
            "calls": w.calls,
            "interval_minutes": w.interval_minutes,
            "aht_seconds": w.aht_seconds,
            "answer_within_seconds": w.answer_within_seconds,
            "target": w.target,
            "shrinkage": w.shrinkage,
            "max_occupancy": w.max_occupancy,
        },
        "traffic_erlangs": w.traffic_erlangs,
        **level_view(requirement.level),
        "scheduled_agents": requirement.scheduled_agents,
        "limited_by": requirement.limited_by,
        "table": [level_view(row, w.target) for row in table_around(requirement)],
    }


# -- internals -----------------------------------------------------------------------------


def _erlang_b_series(traffic: float) -> Iterator[tuple[int, float]]:
    """(n, B(n)) for n = 1, 2, ... by the recurrence; each term stays in (0, 1]."""
    blocking = 1.0
    n = 0
    while True:
        n += 1
        blocking = traffic * blocking / (n + traffic * blocking)
        yield n, blocking


def _wait_probability(agents: int, traffic: float, blocking: float) -> float:
    if agents <= traffic:
        return 1.0
    return agents * blocking / (agents - traffic * (1 - blocking))


def _level(
    agents: int, traffic: float, blocking: float, aht_seconds: float, within_seconds: float
) -> StaffingLevel:
    if agents <= traffic:
        return StaffingLevel(agents, 1.0, 0.0, None, 1.0)
    wait = _wait_probability(agents, traffic, blocking)
    spare = agents - traffic
    return StaffingLevel(
        agents=agents,
        wait_probability=wait,
        service_level=1 - wait * math.exp(-spare * within_seconds / aht_seconds),
        asa_seconds=wait * aht_seconds / spare,
        occupancy=traffic / agents,
    )


def _ceil(value: float) -> int:
    return math.ceil(value - _CEIL_SLACK * max(1.0, abs(value)))


def require_finite(name: str, value: float) -> None:
    """Reject NaN, infinities and non-numbers, naming the parameter."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(name, "must be a finite number")


def require_positive(name: str, value: float) -> None:
    """Reject anything not a finite number above 0, naming the parameter."""
    require_finite(name, value)
    if value <= 0:
        raise InvalidInput(name, "must be positive")


def require_at_most(name: str, value: float, most: float) -> None:
    if value > most:
        raise InvalidInput(name, f"must be at most {most:g}")


def _check_agents(agents: int) -> None:
    if isinstance(agents, bool) or not isinstance(agents, int) or agents < 1:
        raise InvalidInput("agents", "must be a whole number of at least 1")


def _check_traffic(traffic: float) -> None:
    require_finite("traffic", traffic)
    if traffic < 0:
        raise InvalidInput("traffic", "must not be negative")
    if traffic > MAX_TRAFFIC_ERLANGS:
        raise InvalidInput("traffic", f"must be at most {MAX_TRAFFIC_ERLANGS:.0f} Erlangs")
