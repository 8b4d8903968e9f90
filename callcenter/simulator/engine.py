"""A discrete-event simulation of one day, driving the real ACD on a virtual clock.

The ACD is the production one (`callcenter.acd.Acd`), used only through its public API;
the simulator plays everyone around it: callers who arrive, wait and hang up, agents
whose phones ring, who talk and log on and off by the roster, and the edge's timer that
calls `tick()`. Time is a `ManualClock` jumped from one timed event to the next, taken
from a heap:

- arrival: `enqueue` (and the wait the ACD estimates for the caller's place, if it can);
- patience: the caller hangs up if not answered yet (`hangup` = an abandon);
- callback: a caller still holding after `callback_after_seconds` asks for a callback;
- dial: `callback_dial_seconds` after CallbackDialing the callee answers or not;
- answer: an offered agent picks up `answer_delay_seconds` after the offer (`answered`);
- end of talk: `hangup` of the connected call;
- tick: exactly when the ACD has something due (a wrap-up ending, a maximum wait
  running out) or, with `tick_seconds`, at that fixed cadence;
- interval boundary: the ACD's figures of the 15 minutes that ended are read, and the
  roster of the next interval is applied (agents log on, or off once their call ends).

Events at the same instant run boundary first (so an interval's figures never include
what happens at its end), then tick, end of talk, answer, patience, arrival, and in the
order they were scheduled within a kind. Nothing here reads the wall clock or the global
random generator: a plan and its seed give the same day, event for event.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import IntEnum
from typing import Any, Literal

from callcenter.acd.acd import Acd
from callcenter.acd.events import (
    AcdEvent,
    AgentStateChanged,
    CallAbandoned,
    CallAnswered,
    CallbackConnected,
    CallbackDialing,
    CallbackFailed,
    CallbackRequested,
    CallCompleted,
    CallEnqueued,
    CallOffered,
    CallOverflowed,
    OfferWithdrawn,
)
from callcenter.acd.model import AgentState, OverflowKind
from callcenter.clock import ManualClock
from callcenter.simulator.model import QUEUE_NAME, Caller, DayPlan, PlanError, draw_callers, streams
from callcenter.simulator.profile import INTERVAL_SECONDS, clock_label
from callcenter.simulator.report import (
    Comparison,
    DayReport,
    DayTotals,
    IntervalRow,
    day_erlang,
    erlang_prediction,
)

#: Midnight UTC of a Monday (2025-11-24): the simulated day's epoch, aligned with the
#: ACD's 15-minute intervals.
DAY_ZERO = 1_763_942_400.0

#: Agent states that count as busy for occupancy (ringing is not work yet, as in the ACD).
BUSY = frozenset({AgentState.ON_CALL, AgentState.WRAP_UP})
#: Agents staffed less than this are left out of the spread of occupancy between agents.
MIN_AGENT_SECONDS = 3600.0
#: Which agents go first when the roster shrinks: idle ones, then busy ones (they log
#: off when the call ends), wrap-up last (logging off would cut it short).
_LOG_OFF_ORDER = {
    AgentState.AVAILABLE: 0,
    AgentState.PAUSED: 1,
    AgentState.OFFERED: 2,
    AgentState.ON_CALL: 2,
    AgentState.WRAP_UP: 3,
}


EstimateSource = Literal["event", "call"]


class Kind(IntEnum):
    """Timed events; the value orders events due at the same instant."""

    BOUNDARY = 0
    TICK = 1
    END_TALK = 2
    ANSWER = 3
    DIAL = 4
    PATIENCE = 5
    CALLBACK = 6
    ARRIVAL = 7


#: (when, kind, sequence, caller index, agent id, offer serial)
_Entry = tuple[float, int, int, int, str, int]


@dataclass
class _Interval:
    """What the simulator itself counts in the open interval."""

    offered: int = 0
    busy_seconds: float = 0.0
    staffed_seconds: float = 0.0
    estimate_error: float = 0.0
    estimates: int = 0
    callbacks_requested: int = 0
    callbacks_connected: int = 0
    callbacks_failed: int = 0
    callbacks_dropped: int = 0


class Simulation:
    """One run of a plan. `observer` sees every event the ACD publishes, in order."""

    def __init__(
        self,
        plan: DayPlan,
        observer: Callable[[AcdEvent], None] | None = None,
        *,
        estimate_from: EstimateSource | None = None,
    ) -> None:
        """`estimate_from`: where the wait estimate given on arrival is read. "event":
        the CallEnqueued event's `estimated_wait_seconds`; "call": `estimated_wait` asked
        just before `enqueue` for the caller's place (the same figure, computed twice).
        Default: the event when it carries the field. Either way the estimate is measured
        only when the ACD has `estimated_wait`."""
        self.plan = plan
        self._observer = observer
        rng = streams(plan.seed)
        self.callers: list[Caller] = draw_callers(plan, rng)
        self._start = DAY_ZERO + plan.profile.start_minute * 60.0
        self.clock = ManualClock(self._start)
        self.acd = _new_acd(plan, self.clock, self._publish, rng.routing)
        self._estimator: Callable[[str, int], float | None] | None = (
            self.acd.estimated_wait if plan.measure_estimates else None
        )
        self._estimate_from: EstimateSource = estimate_from or "event"
        self._schedule = plan.agents_per_interval()
        self._expected = plan.expected_calls()
        self._heap: list[_Entry] = []
        self._seq = 0
        self._index = {c.call_id: n for n, c in enumerate(self.callers)}
        count = len(self.callers)
        self._open = [False] * count
        self._answered = [False] * count
        self._estimate: list[float | None] = [None] * count
        self._waiting: set[int] = set()
        self._ringing: dict[int, dict[str, int]] = {}
        self._offer_serial = 0
        #: Callers who asked for a callback: they left the hold, the call waits on.
        self._callback = [False] * count
        # Whether each dial attempt reaches the callee: drawn per caller up front, so a
        # caller's luck does not depend on the order the variant dials in.
        attempts = plan.queue.callback_retries + 1
        rate = plan.callback_answer_rate
        self._reached = [
            tuple(rng.callbacks.random() < rate for _ in range(attempts)) for _ in self.callers
        ]
        self._unresolved = 0
        self._left_otherwise = 0
        # Agents: the pool in creation order, who is rostered, what state each is in.
        self._pool: list[str] = []
        self._rostered: list[str] = []
        self._state: dict[str, AgentState] = {}
        self._busy = self._staffed = 0
        self._since = self._start
        self._interval = _Interval()
        self._rows: list[IntervalRow] = []
        self._finished = False
        self._ended_at = self._start
        self._total_busy = self._total_staffed = 0.0
        #: Per agent: [since, busy seconds, staffed seconds], for how evenly work spreads.
        self._per_agent: dict[str, list[float]] = {}
        self._error_sum = 0.0
        self._error_count = 0
        #: Seconds from arrival to the callee's answer, summed over connected callbacks.
        self._callback_delay = 0.0
        #: Places in line the simulator predicted that differ from the ACD's (a self-check).
        self.position_mismatches = 0
        self._predicted_position = 0

    # ----- running -----------------------------------------------------------------------

    def run(self) -> DayReport:
        if self._rows or self._finished:
            raise RuntimeError("a Simulation runs once")
        for n, caller in enumerate(self.callers):
            self._push(DAY_ZERO + caller.arrival, Kind.ARRIVAL, n)
        self._push(self._start, Kind.BOUNDARY, 0)
        if self.plan.tick_seconds is not None:
            self._push(self._start + self.plan.tick_seconds, Kind.TICK)
        heap, clock, acd = self._heap, self.clock, self.acd
        call_ids = [c.call_id for c in self.callers]
        while heap and not self._finished:
            at, kind, _, n, agent_id, serial = heapq.heappop(heap)
            clock.set(at)
            if kind == Kind.ARRIVAL:
                self._arrive(n, at)
            elif kind == Kind.ANSWER:
                ringing = self._ringing.get(n)
                if ringing is not None and ringing.get(agent_id) == serial:
                    if len(ringing) == 1:
                        acd.answered(call_ids[n])
                    else:
                        acd.answered(call_ids[n], agent_id)
            elif kind == Kind.END_TALK:
                acd.hangup(call_ids[n])
            elif kind == Kind.PATIENCE:
                if self._open[n] and not self._answered[n] and not self._callback[n]:
                    acd.hangup(call_ids[n])
            elif kind == Kind.CALLBACK:
                # Only a caller still holding (not ringing an agent) asks for a callback.
                if self._open[n] and n in self._waiting and not self._callback[n]:
                    acd.request_callback(call_ids[n], call_ids[n])
            elif kind == Kind.DIAL:
                attempts = self._reached[n]
                if serial <= len(attempts) and attempts[serial - 1]:
                    acd.callback_answered(call_ids[n])
                else:
                    acd.callback_failed(call_ids[n])
            elif kind == Kind.TICK:
                acd.tick()
                if self.plan.tick_seconds is not None:
                    self._push(at + self.plan.tick_seconds, Kind.TICK)
            else:
                self._boundary(n, at)
        return self._report()

    def _push(
        self, at: float, kind: Kind, n: int = -1, agent_id: str = "", serial: int = 0
    ) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (at, kind, self._seq, n, agent_id, serial))

    def _arrive(self, n: int, at: float) -> None:
        caller = self.callers[n]
        if self._estimator is not None and self._estimate_from == "call":
            self._predicted_position = len(self._waiting) + 1
            self._estimate[n] = self._estimator(QUEUE_NAME, self._predicted_position)
        self._open[n] = True
        self._unresolved += 1
        self.acd.enqueue(caller.call_id, QUEUE_NAME, caller.call_id)
        if not math.isinf(caller.patience):
            self._push(at + caller.patience, Kind.PATIENCE, n)
        after = self.plan.callback_after_seconds
        if after is not None and after < caller.patience:
            self._push(at + after, Kind.CALLBACK, n)
        max_wait = self.plan.queue.max_wait_seconds
        if self.plan.tick_seconds is None and max_wait is not None:
            self._push(_first_after(at, max_wait), Kind.TICK)

    def _boundary(self, k: int, at: float) -> None:
        """Close interval k - 1, then roster interval k (or stop once the day drained)."""
        if k > 0:
            self._close_interval(k - 1, at)
        day_intervals = len(self._schedule)
        if k >= day_intervals:
            drained = self._unresolved == 0
            overdue = at - (self._start + day_intervals * INTERVAL_SECONDS) >= (
                self.plan.max_drain_seconds
            )
            if drained or overdue:
                self._finished, self._ended_at = True, at
                return
        self._roster(self._agents_for(k))
        self._push(at + INTERVAL_SECONDS, Kind.BOUNDARY, k + 1)

    def _agents_for(self, k: int) -> int:
        if k < len(self._schedule):
            return self._schedule[k]
        # After the day, the last roster stays (at least one agent) until the line drains.
        return max(self._schedule[-1], 1)

    # ----- the roster --------------------------------------------------------------------

    def _roster(self, target: int) -> None:
        acd = self.acd
        while len(self._rostered) < target:
            agent_id = self._next_to_log_on()
            self._rostered.append(agent_id)
            acd.set_agent_state(agent_id, AgentState.AVAILABLE)
        while len(self._rostered) > target:
            # The first in _LOG_OFF_ORDER, and of those the last rostered.
            place = max(
                range(len(self._rostered)),
                key=lambda i: (-_LOG_OFF_ORDER.get(self._state[self._rostered[i]], 0), i),
            )
            agent_id = self._rostered.pop(place)
            acd.set_agent_state(agent_id, AgentState.LOGGED_OUT)

    def _next_to_log_on(self) -> str:
        """An agent still on a call it was to log off after (no wrap-up is cut short),
        else the first logged-off agent of the pool, else a new one."""
        rostered = set(self._rostered)
        off = [a for a in self._pool if a not in rostered]
        for agent_id in off:
            if self._state[agent_id] in (AgentState.ON_CALL, AgentState.OFFERED):
                return agent_id
        for agent_id in off:
            if self._state[agent_id] is AgentState.LOGGED_OUT:
                return agent_id
        agent_id = f"agent-{len(self._pool) + 1:03d}"
        self._pool.append(agent_id)
        self._state[agent_id] = AgentState.LOGGED_OUT
        self.acd.add_agent(agent_id, [QUEUE_NAME])
        return agent_id

    # ----- what the ACD publishes --------------------------------------------------------

    def _publish(self, event: AcdEvent) -> None:
        kind = type(event)
        if kind is AgentStateChanged:
            assert isinstance(event, AgentStateChanged)
            self._agent_changed(event)
        elif kind is CallOffered:
            assert isinstance(event, CallOffered)
            n = self._index[event.call_id]
            self._waiting.discard(n)
            self._offer_serial += 1
            self._ringing.setdefault(n, {})[event.agent_id] = self._offer_serial
            self._push(
                event.at + self.plan.answer_delay_seconds,
                Kind.ANSWER,
                n,
                event.agent_id,
                self._offer_serial,
            )
        elif kind is OfferWithdrawn:
            assert isinstance(event, OfferWithdrawn)
            n = self._index[event.call_id]
            ringing = self._ringing.get(n)
            if ringing is not None:
                ringing.pop(event.agent_id, None)
                if not ringing:
                    del self._ringing[n]
                    if self._open[n] and not self._answered[n]:
                        self._waiting.add(n)
        elif kind is CallEnqueued:
            assert isinstance(event, CallEnqueued)
            n = self._index[event.call_id]
            self._waiting.add(n)
            self._interval.offered += 1
            if self._estimator is None:
                pass
            elif self._estimate_from == "event":
                self._estimate[n] = event.estimated_wait_seconds
            elif event.position != self._predicted_position:
                self.position_mismatches += 1
        elif kind is CallAnswered:
            assert isinstance(event, CallAnswered)
            n = self._index[event.call_id]
            self._answered[n] = True
            self._waiting.discard(n)
            self._ringing.pop(n, None)
            estimate = self._estimate[n]
            if estimate is not None:
                self._interval.estimate_error += abs(event.wait_seconds - estimate)
                self._interval.estimates += 1
            self._push(event.at + self.callers[n].talk, Kind.END_TALK, n)
        elif kind is CallAbandoned:
            assert isinstance(event, CallAbandoned)
            self._resolve(self._index[event.call_id])
        elif kind is CallbackRequested:
            assert isinstance(event, CallbackRequested)
            # The call keeps its place in line (still waiting), its caller left the hold.
            self._callback[self._index[event.call_id]] = True
            self._interval.callbacks_requested += 1
        elif kind is CallbackDialing:
            assert isinstance(event, CallbackDialing)
            n = self._index[event.call_id]
            self._ringing.pop(n, None)
            self._waiting.discard(n)
            self._push(event.at + self.plan.callback_dial_seconds, Kind.DIAL, n, "", event.attempt)
        elif kind is CallbackConnected:
            assert isinstance(event, CallbackConnected)
            n = self._index[event.call_id]
            self._answered[n] = True
            self._interval.callbacks_connected += 1
            self._callback_delay += event.at - (DAY_ZERO + self.callers[n].arrival)
            self._push(event.at + self.callers[n].talk, Kind.END_TALK, n)
        elif kind is CallbackFailed:
            assert isinstance(event, CallbackFailed)
            n = self._index[event.call_id]
            self._interval.callbacks_failed += 1
            if event.retry_at is None:
                self._interval.callbacks_dropped += 1
                self._resolve(n)
            else:
                self._waiting.add(n)
                if self.plan.tick_seconds is None:
                    self._push(event.retry_at, Kind.TICK)
        elif kind is CallCompleted:
            assert isinstance(event, CallCompleted)
            self._resolve(self._index[event.call_id])
            wrap_up = self.plan.queue.wrap_up_seconds
            if wrap_up > 0 and self.plan.tick_seconds is None:
                # The ACD ends the wrap-up at a tick at or after event.at + wrap_up (the
                # same float sum it computes), so tick exactly then.
                self._push(event.at + wrap_up, Kind.TICK)
        elif isinstance(event, CallOverflowed) and event.target_kind is OverflowKind.TICKET_ONLY:
            # A queue limit sent the call out of the ACD: it is no longer a caller on hold.
            # (An overflow to a callback is followed by CallbackRequested: it is dialled.)
            n = self._index[event.call_id]
            if self._open[n]:
                self._left_otherwise += 1
                self._resolve(n)
        if self._observer is not None:
            self._observer(event)

    def _resolve(self, n: int) -> None:
        if self._open[n]:
            self._open[n] = False
            self._unresolved -= 1
        self._waiting.discard(n)
        self._ringing.pop(n, None)

    def _agent_changed(self, event: AgentStateChanged) -> None:
        self._integrate(event.at)
        old, new = event.old, event.new
        self._staffed += (new is not AgentState.LOGGED_OUT) - (old is not AgentState.LOGGED_OUT)
        self._busy += (new in BUSY) - (old in BUSY)
        self._close_agent(event.agent_id, old, event.at)
        self._state[event.agent_id] = new

    def _close_agent(self, agent_id: str, state: AgentState, now: float) -> None:
        """Count the agent's time in `state` up to now."""
        times = self._per_agent.setdefault(agent_id, [now, 0.0, 0.0])
        elapsed = now - times[0]
        if state in BUSY:
            times[1] += elapsed
        if state is not AgentState.LOGGED_OUT:
            times[2] += elapsed
        times[0] = now

    def _integrate(self, now: float) -> None:
        elapsed = now - self._since
        if elapsed > 0:
            self._interval.busy_seconds += elapsed * self._busy
            self._interval.staffed_seconds += elapsed * self._staffed
            self._since = now

    # ----- figures -----------------------------------------------------------------------

    def _close_interval(self, k: int, end: float) -> None:
        self._integrate(end)
        counted = self._interval
        self._interval = _Interval()
        figures = self.acd.statistics(QUEUE_NAME).window(end, INTERVAL_SECONDS)
        expected = self._expected[k] if k < len(self._expected) else 0.0
        agents = self._agents_for(k)
        erlang = erlang_prediction(
            expected, agents, self.plan.aht_seconds, self.plan.queue.service_level_seconds
        )
        self._total_busy += counted.busy_seconds
        self._total_staffed += counted.staffed_seconds
        self._error_sum += counted.estimate_error
        self._error_count += counted.estimates
        self._rows.append(
            IntervalRow(
                start=clock_label(self.plan.profile.start_minute + k * INTERVAL_SECONDS // 60),
                agents=agents,
                expected_calls=expected,
                offered=counted.offered,
                answered=figures.answered,
                answered_within=figures.answered_within,
                abandoned=figures.abandoned,
                short_abandoned=figures.short_abandoned,
                service_level=figures.service_level,
                asa_seconds=figures.asa_seconds,
                occupancy=_ratio(counted.busy_seconds, counted.staffed_seconds),
                estimate_mae_seconds=_ratio(counted.estimate_error, counted.estimates),
                estimates=counted.estimates,
                callbacks_requested=counted.callbacks_requested,
                callbacks_connected=counted.callbacks_connected,
                callbacks_failed=counted.callbacks_failed,
                callbacks_dropped=counted.callbacks_dropped,
                erlang_service_level=erlang.service_level,
                erlang_asa_seconds=erlang.asa_seconds,
                erlang_occupancy=erlang.occupancy,
            )
        )

    def _agent_occupancies(self) -> list[float]:
        """Each agent's occupancy over its staffed time, for agents staffed an hour or more."""
        for agent_id, state in self._state.items():
            self._close_agent(agent_id, state, self._ended_at)
        return [
            busy / staffed
            for _, busy, staffed in self._per_agent.values()
            if staffed >= MIN_AGENT_SECONDS
        ]

    def _report(self) -> DayReport:
        rows = self._rows
        spread = self._agent_occupancies()
        answered = sum(r.answered for r in rows)
        within = sum(r.answered_within for r in rows)
        abandoned = sum(r.abandoned for r in rows)
        short = sum(r.short_abandoned for r in rows)
        waited = sum(r.asa_seconds * r.answered for r in rows if r.asa_seconds is not None)
        service_level = self._day_service_level(within, answered, abandoned - short)
        erlang_sl, erlang_asa = day_erlang(rows)
        day = DayTotals(
            offered=sum(r.offered for r in rows),
            answered=answered,
            answered_within=within,
            abandoned=abandoned,
            short_abandoned=short,
            left_otherwise=self._left_otherwise,
            unfinished=sum(
                1 for o, a in zip(self._open, self._answered, strict=True) if o and not a
            ),
            service_level=service_level,
            asa_seconds=_ratio(waited, answered),
            occupancy=_ratio(self._total_busy, self._total_staffed),
            staffed_agent_hours=self._total_staffed / 3600,
            agent_occupancy_min=min(spread, default=None),
            agent_occupancy_max=max(spread, default=None),
            estimate_available=self._estimator is not None,
            estimate_mae_seconds=_ratio(self._error_sum, self._error_count),
            estimates=self._error_count,
            callbacks_requested=sum(r.callbacks_requested for r in rows),
            callbacks_connected=sum(r.callbacks_connected for r in rows),
            callbacks_failed=sum(r.callbacks_failed for r in rows),
            callbacks_dropped=sum(r.callbacks_dropped for r in rows),
            callback_delay_seconds=_ratio(
                self._callback_delay, sum(r.callbacks_connected for r in rows)
            ),
            erlang_service_level=erlang_sl,
            erlang_asa_seconds=erlang_asa,
            ended_at=clock_label(int(self._ended_at - DAY_ZERO) // 60),
        )
        return DayReport(plan_view(self.plan), tuple(self._rows), day)

    def _day_service_level(self, within: int, answered: int, abandoned_long: int) -> float | None:
        """The ACD's figure over the whole run while its statistics still hold all of it;
        for longer runs, the default formula over the intervals' counts."""
        stats = self.acd.statistics(QUEUE_NAME)
        span = self._ended_at - self._start
        retention = stats.RETENTION_SECONDS
        if self._finished and 0 < span <= retention:
            return stats.window(self._ended_at, span).service_level
        return _ratio(within, answered + abandoned_long)


def _new_acd(
    plan: DayPlan,
    clock: ManualClock,
    publish: Callable[[AcdEvent], None],
    routing: random.Random,
) -> Acd:
    # The random strategy draws from the ACD's generator: a seeded one keeps it
    # reproducible.
    return Acd([plan.queue], clock, publish, rng=routing)


def _first_after(start: float, seconds: float) -> float:
    """The first instant t with t - start >= seconds, as the ACD computes waits: start +
    seconds may round to a hair below."""
    at = start + seconds
    while at - start < seconds:
        at = math.nextafter(at, math.inf)
    return at


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator > 0 else None


def plan_view(plan: DayPlan) -> dict[str, Any]:
    """The plan's inputs, JSON-ready, as reports carry them."""
    staffing = plan.staffing
    ht = plan.handle_time
    return {
        "calls": plan.calls,
        "profile": plan.profile.describe(),
        "handle_time": f"{ht.kind} mean {ht.mean_seconds:g} s"
        + (f" CV {ht.cv:g}" if ht.kind == "lognormal" else ""),
        "aht_seconds": plan.aht_seconds,
        "wrap_up_seconds": plan.queue.wrap_up_seconds,
        "patience_seconds": None if math.isinf(plan.patience) else plan.patience,
        "staffing": staffing
        if isinstance(staffing, int | str)
        else f"per interval, {min(staffing)}-{max(staffing)} agents",
        "agents_per_interval": list(plan.agents_per_interval()),
        "answer_delay_seconds": plan.answer_delay_seconds,
        "strategy": str(plan.queue.strategy),
        "answer_within_seconds": plan.queue.service_level_seconds,
        "target": plan.queue.service_level_target,
        "short_abandon_seconds": plan.queue.short_abandon_seconds,
        "seed": plan.seed,
        "tick_seconds": plan.tick_seconds,
        "callback_after_seconds": plan.callback_after_seconds,
        "callback_answer_rate": plan.callback_answer_rate,
        "callback_dial_seconds": plan.callback_dial_seconds,
        "callback_retries": plan.queue.callback_retries,
        "callback_retry_seconds": plan.queue.callback_retry_seconds,
    }


def simulate(plan: DayPlan, observer: Callable[[AcdEvent], None] | None = None) -> DayReport:
    """Run one day of the plan through a fresh ACD."""
    return Simulation(plan, observer).run()


def compare(
    plans: Mapping[str, DayPlan] | Sequence[tuple[str, DayPlan]], seed: int | None = None
) -> Comparison:
    """Run variants of a day on the same callers: `seed` if given, else the one seed the
    plans must share."""
    variants = list(plans.items()) if isinstance(plans, Mapping) else list(plans)
    if not variants:
        raise PlanError("plans", "no variant to compare")
    if seed is not None:
        variants = [(name, replace(plan, seed=seed)) for name, plan in variants]
    elif len({plan.seed for _, plan in variants}) > 1:
        raise PlanError("seed", "the variants must share one seed to meet the same callers")
    return Comparison(tuple((name, simulate(plan)) for name, plan in variants))
