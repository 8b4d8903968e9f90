"""What a simulated day is made of: the plan, the callers it draws, the agents it rosters.

Every random draw comes from `random.Random` instances seeded from `DayPlan.seed`, in
separate streams (arrivals, patience, talk, routing, callbacks): two plans that differ only in
staffing or strategy meet the very same callers, which is what makes a comparison fair.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from callcenter.acd.model import QueueSettings, Strategy
from callcenter.planning.erlang import (
    MAX_TRAFFIC_ERLANGS,
    InvalidInput,
    Workload,
    required_agents,
)
from callcenter.simulator.profile import DEFAULT_PROFILE, INTERVAL_SECONDS, ArrivalProfile

#: The queue every simulated call joins.
QUEUE_NAME = "support"


class PlanError(ValueError):
    """A plan parameter out of its range; `parameter` is the DayPlan field (or a part of it)."""

    def __init__(self, parameter: str, reason: str) -> None:
        super().__init__(f"{parameter}: {reason}")
        self.parameter = parameter
        self.reason = reason


class Distribution(StrEnum):
    EXPONENTIAL = "exponential"
    LOGNORMAL = "lognormal"


@dataclass(frozen=True)
class HandleTime:
    """Talk time of a call (wrap-up comes from the queue settings).

    Lognormal with the given mean and coefficient of variation (standard deviation over
    mean), or exponential with the mean (its CV is 1 whatever `cv` says).
    """

    mean_seconds: float = 360.0
    cv: float = 0.8
    kind: Distribution = Distribution.LOGNORMAL

    def __post_init__(self) -> None:
        _positive("aht", self.mean_seconds)
        _positive("aht_cv", self.cv)

    def sampler(self, rng: random.Random) -> Callable[[], float]:
        if self.kind is Distribution.EXPONENTIAL:
            rate = 1.0 / self.mean_seconds
            return lambda: rng.expovariate(rate)
        # X = e^N(mu, sigma): E[X] = e^(mu + sigma^2/2), CV^2 = e^(sigma^2) - 1.
        sigma = math.sqrt(math.log1p(self.cv * self.cv))
        mu = math.log(self.mean_seconds) - sigma * sigma / 2
        return lambda: rng.lognormvariate(mu, sigma)


def default_queue() -> QueueSettings:
    """The simulated queue: 80% within 20 s, as service desks commonly promise."""
    return QueueSettings(
        name=QUEUE_NAME,
        strategy=Strategy.LONGEST_IDLE,
        service_level_seconds=20.0,
        service_level_target=0.8,
        short_abandon_seconds=5.0,
        ring_timeout_seconds=15.0,
        wrap_up_seconds=0.0,
    )


#: Agents on the phones: one count all day, one count per profile interval, or
#: "erlang" (per interval, the Erlang C count for its expected calls at the queue's target).
StaffPlan = int | tuple[int, ...] | Literal["erlang"]


@dataclass(frozen=True)
class DayPlan:
    """One simulated day. `calls` is the expected number of calls (arrivals are Poisson)."""

    calls: float = 3000.0
    profile: ArrivalProfile = DEFAULT_PROFILE
    handle_time: HandleTime = field(default_factory=HandleTime)
    #: Mean of the exponential patience of callers; None: nobody ever hangs up waiting.
    patience_seconds: float | None = 180.0
    staffing: StaffPlan = "erlang"
    #: How long an offered agent's phone rings before the agent answers.
    answer_delay_seconds: float = 2.0
    queue: QueueSettings = field(default_factory=default_queue)
    seed: int = 1
    #: Call the ACD's tick() every so many seconds; None: exactly when something is due.
    tick_seconds: float | None = None
    #: After the last interval, keep simulating at most this long to let the line drain.
    max_drain_seconds: float = 24 * 3600.0
    #: Measure the ACD's wait estimates when it has `estimated_wait`.
    measure_estimates: bool = True
    #: A caller still holding after this many seconds asks for a callback (the call keeps
    #: its place in line, the caller hangs up); None: nobody asks for one.
    callback_after_seconds: float | None = None
    #: Chance that a dialled callee answers a callback attempt.
    callback_answer_rate: float = 0.8
    #: Seconds from dialling a callee to the answer (or to giving up on the attempt).
    callback_dial_seconds: float = 10.0

    def __post_init__(self) -> None:
        _positive("calls", self.calls)
        if self.patience_seconds is not None and not math.isinf(self.patience_seconds):
            _positive("patience", self.patience_seconds)
        if self.tick_seconds is not None:
            _positive("tick", self.tick_seconds)
        _non_negative("max_drain", self.max_drain_seconds)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise PlanError("seed", "must be a whole number")
        queue = self.queue
        _non_negative("wrap_up", queue.wrap_up_seconds)
        _non_negative("answer_within", queue.service_level_seconds)
        _non_negative("short_abandon", queue.short_abandon_seconds)
        _positive("ring_timeout", queue.ring_timeout_seconds)
        _finite("target", queue.service_level_target)
        if not 0 < queue.service_level_target <= 1:
            raise PlanError("target", "must be a share above 0 and at most 1, e.g. 0.8")
        _check_staffing(self.staffing, len(self.profile.weights))
        peak = max(self.profile.shares) * self.calls * self.aht_seconds / INTERVAL_SECONDS
        if peak > MAX_TRAFFIC_ERLANGS:
            raise PlanError(
                "calls",
                f"{peak:.0f} Erlangs in the busiest interval is above the "
                f"{MAX_TRAFFIC_ERLANGS:.0f} Erlang C (and this simulator) is meant for",
            )
        _non_negative("answer_delay", self.answer_delay_seconds)
        if self.callback_after_seconds is not None:
            _non_negative("callback_after", self.callback_after_seconds)
        _finite("callback_answer_rate", self.callback_answer_rate)
        if not 0 <= self.callback_answer_rate <= 1:
            raise PlanError("callback_answer_rate", "must be a share from 0 to 1, e.g. 0.8")
        _non_negative("callback_dial", self.callback_dial_seconds)
        if self.answer_delay_seconds >= queue.ring_timeout_seconds:
            raise PlanError(
                "answer_delay",
                f"must be shorter than the ring timeout ({queue.ring_timeout_seconds:g} s):"
                " the simulated agents always answer",
            )
        if self.staffing == "erlang":
            if not 0 < queue.service_level_target < 1:
                raise PlanError("target", "must be a share strictly between 0 and 1 for Erlang C")
            self.agents_per_interval()  # a load Erlang C cannot size fails here, not mid-run

    @property
    def aht_seconds(self) -> float:
        """Mean handle time as Erlang C sees it: talk plus the queue's wrap-up."""
        return self.handle_time.mean_seconds + self.queue.wrap_up_seconds

    @property
    def patience(self) -> float:
        return math.inf if self.patience_seconds is None else self.patience_seconds

    def expected_calls(self) -> tuple[float, ...]:
        """Expected arrivals of each profile interval."""
        return tuple(self.calls * share for share in self.profile.shares)

    def agents_per_interval(self) -> tuple[int, ...]:
        """Agents rostered in each profile interval."""
        count = len(self.profile.weights)
        if isinstance(self.staffing, int):
            return (self.staffing,) * count
        if isinstance(self.staffing, tuple):
            return self.staffing
        return tuple(self.erlang_agents(calls) for calls in self.expected_calls())

    def erlang_agents(self, calls: float) -> int:
        """The Erlang C agent count for one interval's expected calls (0 for none)."""
        if calls <= 0:
            return 0
        try:
            workload = Workload(
                calls=calls,
                interval_minutes=INTERVAL_SECONDS / 60,
                aht_seconds=self.aht_seconds,
                answer_within_seconds=self.queue.service_level_seconds,
                target=self.queue.service_level_target,
            )
            return required_agents(workload).agents
        except InvalidInput as exc:
            raise PlanError("calls", exc.reason) from None


@dataclass(frozen=True)
class Caller:
    """One call of the day: when it arrives, how long its caller holds, how long it talks."""

    call_id: str
    arrival: float  # seconds after midnight
    patience: float  # math.inf: holds forever
    talk: float


@dataclass(frozen=True)
class Streams:
    arrivals: random.Random
    patience: random.Random
    talk: random.Random
    routing: random.Random
    #: Whether each callback attempt reaches its callee.
    callbacks: random.Random


def streams(seed: int) -> Streams:
    """Independent generators for each kind of draw, all from `random.Random(seed)`."""
    master = random.Random(seed)
    return Streams(*(random.Random(master.getrandbits(64)) for _ in range(5)))


def draw_callers(plan: DayPlan, rng: Streams) -> list[Caller]:
    """The day's callers, in arrival order: Poisson arrivals at each interval's rate."""
    talk = plan.handle_time.sampler(rng.talk)
    patience_rate = 1.0 / plan.patience
    callers: list[Caller] = []
    start = plan.profile.start_minute * 60.0
    for n, expected in enumerate(plan.expected_calls()):
        begin = start + n * INTERVAL_SECONDS
        end = begin + INTERVAL_SECONDS
        if expected <= 0:
            continue
        rate = expected / INTERVAL_SECONDS
        at = begin + rng.arrivals.expovariate(rate)
        while at < end:
            held = rng.patience.expovariate(patience_rate) if patience_rate > 0 else math.inf
            callers.append(Caller(f"sim-{len(callers) + 1:06d}", at, held, talk()))
            at += rng.arrivals.expovariate(rate)
    return callers


def _check_staffing(staffing: object, intervals: int) -> None:
    if staffing == "erlang":
        return
    if isinstance(staffing, bool):
        raise PlanError("staff", "must be a number of agents, per-interval counts or 'erlang'")
    if isinstance(staffing, int):
        if staffing < 0:
            raise PlanError("staff", "must not be negative")
        return
    if isinstance(staffing, tuple):
        if len(staffing) != intervals:
            raise PlanError(
                "staff", f"gives {len(staffing)} interval counts for {intervals} profile intervals"
            )
        for count in staffing:
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                raise PlanError("staff", f"{count!r} is not a whole number of agents")
        return
    raise PlanError("staff", "must be a number of agents, per-interval counts or 'erlang'")


def _positive(name: str, value: float) -> None:
    _finite(name, value)
    if value <= 0:
        raise PlanError(name, "must be positive")


def _non_negative(name: str, value: float) -> None:
    _finite(name, value)
    if value < 0:
        raise PlanError(name, "must not be negative")


def _finite(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PlanError(name, "must be a finite number")
