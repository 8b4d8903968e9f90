"""A day of calls through the real ACD on a virtual clock: `callcenter simulate`.

`simulate(DayPlan(...))` runs one day and returns a `DayReport` (per 15-minute interval
and day totals, next to Erlang C); `compare({...})` runs variants on the same callers.
docs/simulator.md describes the model and its assumptions.
"""

from callcenter.simulator.engine import Simulation, compare, simulate
from callcenter.simulator.model import DayPlan, Distribution, HandleTime, PlanError
from callcenter.simulator.profile import DEFAULT_PROFILE, ArrivalProfile
from callcenter.simulator.report import Comparison, DayReport, DayTotals, IntervalRow

__all__ = [
    "DEFAULT_PROFILE",
    "ArrivalProfile",
    "Comparison",
    "DayPlan",
    "DayReport",
    "DayTotals",
    "Distribution",
    "HandleTime",
    "IntervalRow",
    "PlanError",
    "Simulation",
    "compare",
    "simulate",
]
