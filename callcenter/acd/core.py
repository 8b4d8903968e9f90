"""The ACD's state and the mechanics its operations are built from.

Offers and their withdrawal, agent state changes, overflow, the routing pass, and the
publishing rule: events are queued while state changes and published once it is
consistent, never from inside a nested call. `acd.Acd` adds the public operations on top;
this split only keeps each file readable, the two are one object.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from callcenter.acd import callbacks as cb
from callcenter.acd import events as ev
from callcenter.acd.errors import (
    InvalidSetting,
    InvalidTransition,
    UnknownCall,
    UnknownQueue,
)
from callcenter.acd.estimate import release_in
from callcenter.acd.index import FreeAgents, Key, Lines, Members
from callcenter.acd.model import (
    DEFAULT_PAUSE_REASONS,
    AcdCall,
    Agent,
    AgentState,
    CallPhase,
    Membership,
    OfferFailure,
    OverflowCause,
    OverflowKind,
    QueueSettings,
    check_level,
)
from callcenter.acd.occupancy import AgentActivity
from callcenter.acd.overflow import callable_number, target_for
from callcenter.acd.routing import ORDERED, RoutingMemory, choose, choose_in_order, rank
from callcenter.acd.service_level import QueueStatistics
from callcenter.clock import Clock

#: The reason an agent is paused with when its phone fails an offer.
OFFER_FAILURE_PAUSE_REASON = {
    OfferFailure.NO_ANSWER: "no answer",
    OfferFailure.BUSY: "busy",
    OfferFailure.REJECTED: "rejected",
    OfferFailure.UNREACHABLE: "unreachable",
}

#: The pause that reserves an agent an attended transfer consults (calls/consult.py):
#: no call is offered to it meanwhile, and `transfer_to_agent(reserved=True)` may hand
#: it the call.
CONSULT_PAUSE_REASON = "consultation"

#: Pause reasons the ACD itself uses: always accepted, whatever the configured list says.
SYSTEM_PAUSE_REASONS = frozenset(OFFER_FAILURE_PAUSE_REASON.values()) | {CONSULT_PAUSE_REASON}


@dataclass(frozen=True)
class Place:
    """The place in line of a caller who hung up, kept for a redial (resume window)."""

    call_id: str
    enqueued_at: float
    arrival: int
    left_at: float


class AcdCore:
    """State and mechanics of the ACD; `acd.Acd` is the class to use."""

    def __init__(
        self,
        queues: Iterable[QueueSettings],
        clock: Clock,
        publish: Callable[[ev.AcdEvent], None],
        *,
        pause_reasons: Iterable[str] | None = None,
        utc_offset_seconds: float = 0.0,
        rng: random.Random | None = None,
    ) -> None:
        """`utc_offset_seconds`: where "today" starts for the fewest-calls and
        least-talk-time counters (local midnight = UTC midnight minus the offset).
        `rng`: the random strategy's generator; pass a seeded one for reproducible runs."""
        self._clock = clock
        self._publish = publish
        self._queues = {q.name: q for q in queues}
        self._check_targets()
        self._stats = {q.name: new_statistics(q) for q in self._queues.values()}
        reasons = DEFAULT_PAUSE_REASONS if pause_reasons is None else pause_reasons
        self._pause_reasons = frozenset(reasons) | SYSTEM_PAUSE_REASONS
        self._utc_offset = utc_offset_seconds
        self._rng = rng if rng is not None else random.Random()
        self._memory = RoutingMemory()
        self._activity = AgentActivity()
        self._agents: dict[str, Agent] = {}
        self._calls: dict[str, AcdCall] = {}
        self._pending: list[ev.AcdEvent] = []
        self._flushing = False
        #: Per agent in wrap-up: when it ends, the answer time and queue of the call before.
        self._wrap_up: dict[str, tuple[float, float, str]] = {}
        self._arrivals = 0
        #: Places of callers who hung up, by (caller, queue), for a redial to resume.
        self._left: dict[tuple[str, str], Place] = {}
        #: Per queue: waiting calls in line order, available agents, member agents.
        self._lines = Lines()
        self._available = FreeAgents({q.name: q.strategy for q in self._queues.values()})
        self._members = Members()

    def queue_settings(self, name: str) -> QueueSettings:
        try:
            return self._queues[name]
        except KeyError:
            raise UnknownQueue(name) from None

    def call(self, call_id: str) -> AcdCall:
        try:
            return self._calls[call_id]
        except KeyError:
            raise UnknownCall(call_id) from None

    def day_of(self, at: float) -> int:
        """The local day number of a moment, for the per-day agent counters."""
        return math.floor((at + self._utc_offset) / 86_400)

    def day_start(self, at: float) -> float:
        """The moment the local day of `at` began (local midnight): the board's "today"."""
        return self.day_of(at) * 86_400 - self._utc_offset

    # ----- internals: agents -----------------------------------------------------------

    def _memberships(
        self, queues: Iterable[str] | Mapping[str, Membership], current: Mapping[str, Membership]
    ) -> dict[str, Membership]:
        if isinstance(queues, Mapping):
            wanted = dict(queues)
            for name, membership in wanted.items():
                if not isinstance(membership, Membership):
                    raise InvalidSetting(f"membership of {name!r} is not a Membership")
        else:
            wanted = {name: current.get(name, Membership()) for name in queues}
        for name in wanted:
            self.queue_settings(name)
        return wanted

    def _update_agent(
        self, agent: Agent, memberships: dict[str, Membership], skills: dict[str, int] | None
    ) -> None:
        changed = memberships != agent.memberships or (
            skills is not None and skills != agent.skills
        )
        agent.memberships = memberships
        self._sync_agent(agent)
        if skills is not None:
            agent.skills = skills
        if changed:
            self._emit(
                ev.AgentMembershipChanged(
                    self._clock.now(), agent.agent_id, tuple(sorted(memberships))
                )
            )
        self._route_and_flush()

    def _count_call(self, agent: Agent, now: float) -> None:
        agent.calls_answered += 1
        agent.count_day(self.day_of(now))
        agent.calls_today += 1

    def _release_in(self, agent: Agent, aht: float, now: float) -> float:
        """When a staffed agent should be free for the next caller (see estimate.py)."""
        match agent.state:
            case AgentState.WRAP_UP:
                entry = self._wrap_up.get(agent.agent_id)
                return release_in(entry[0] if entry else None, now)
            case AgentState.ON_CALL:
                call = self._calls.get(agent.call_id or "")
                if call is None or call.answered_at is None:
                    return aht
                return release_in(call.answered_at + aht, now)
            case AgentState.OFFERED:
                return aht
            case _:
                return 0.0

    def _live_in_line(self, queue: str) -> int:
        return sum(
            1
            for c in self._calls.values()
            if c.queue == queue and c.phase is not CallPhase.CONNECTED and c.callback is None
        )

    def _logged_in(self, queue: str) -> int:
        return sum(
            1 for a in self._members.of(queue).values() if a.state is not AgentState.LOGGED_OUT
        )

    # ----- internals: indexes ----------------------------------------------------------

    def _file(self, call: AcdCall) -> None:
        """Keep the waiting lines in step with a call whose phase, queue or place changed
        (or that was added or removed)."""
        self._lines.sync(call, held=self._calls.get(call.call_id) is call)

    def _sync_agent(self, agent: Agent) -> None:
        """Keep the per-queue agent indexes in step with an agent's state or memberships."""
        self._available.sync(agent)
        self._members.sync(agent)

    def _rebuild_indexes(self) -> None:
        self._lines.rebuild(self._calls.values())
        self._available.rebuild(self._agents.values())
        self._members.rebuild(self._agents.values())

    def _indexes_consistent(self) -> bool:
        """The indexes recomputed from scratch agree with them (for the tests)."""
        return (
            self._lines.consistent(self._calls)
            and self._available.consistent(self._agents)
            and self._members.consistent(self._agents)
        )

    # ----- internals: calls ------------------------------------------------------------

    def _expect(self, call_id: str, phase: CallPhase) -> AcdCall:
        call = self.call(call_id)
        if call.phase is not phase:
            raise InvalidTransition(f"call {call_id!r} is {call.phase}, not {phase}")
        return call

    def _dialing(self, call_id: str) -> AcdCall:
        call = self.call(call_id)
        if not call.dialing:
            raise InvalidTransition(f"call {call_id!r} is not a callback being dialled")
        return call

    def _offered_agent(self, call: AcdCall, agent_id: str | None) -> str:
        if agent_id is None:
            if len(call.offered_to) != 1:
                raise InvalidTransition(
                    f"call {call.call_id!r} rings {len(call.offered_to)} agents: name the agent"
                )
            return call.offered_to[0]
        if agent_id not in call.offered_to:
            raise InvalidTransition(f"call {call.call_id!r} is not offered to {agent_id!r}")
        return agent_id

    def _position(self, call: AcdCall) -> int:
        return 1 + self._lines.count_before(call.queue, call.order_key())

    def _check_transferable(self, call: AcdCall) -> None:
        if call.phase is CallPhase.OFFERED:
            raise InvalidTransition(f"call {call.call_id!r} is ringing an agent")
        if call.callback is not None:
            raise InvalidTransition(f"call {call.call_id!r} is a queued callback")

    def _unhook(self, call: AcdCall, now: float) -> tuple[Agent, float] | None:
        """Take a connected call from its agent for a transfer: the call waits again, as a
        new arrival. Returns the agent and the answer time, for `_release` once the
        transfer is published; None for a call that was waiting already."""
        if call.phase is not CallPhase.CONNECTED:
            return None
        assert call.agent_id is not None and call.answered_at is not None
        held = self._agents[call.agent_id], call.answered_at
        self._arrivals += 1
        call.phase, call.agent_id, call.offered_at, call.answered_at = (
            CallPhase.WAITING,
            None,
            None,
            None,
        )
        call.enqueued_at = call.queued_at = now
        call.arrival, call.estimate = self._arrivals, None
        self._file(call)
        return held

    def _to_callback(self, call: AcdCall, number: str, now: float) -> None:
        self._stats[call.queue].record_callback(now, now - call.queued_at)
        call.callback, call.estimate = number, None

    def _callback_failed(self, call: AcdCall, now: float) -> None:
        assert call.agent_id is not None and call.callback is not None
        agent = self._agents[call.agent_id]
        attempt = call.callback_attempts
        retry = cb.retry_at(self._queues[call.queue], attempt, now)
        call.phase, call.agent_id, call.answered_at, call.dialing = (
            CallPhase.WAITING,
            None,
            None,
            False,
        )
        call.offered_at = None
        if retry is None:
            del self._calls[call.call_id]
            self._stats[call.queue].record_callback_dropped()
        call.not_before = retry
        self._file(call)
        self._emit(
            ev.CallbackFailed(
                now, call.call_id, call.queue, agent.agent_id, call.callback, attempt, retry
            )
        )
        self._free(agent)

    def _overflow(self, call: AcdCall, cause: OverflowCause, now: float) -> None:
        """Send a waiting call to its queue's overflow target (see overflow.py)."""
        source = call.queue
        target = target_for(self._queues[source], call.caller)
        waited = now - call.queued_at
        match target.kind:
            case OverflowKind.QUEUE:
                assert target.name is not None
                self._stats[source].record_overflowed(now, waited)
                call.queue, call.queued_at, call.estimate = target.name, now, None
                self._stats[target.name].record_offered(now)
                self._emit(
                    ev.CallOverflowed(now, call.call_id, source, target.kind, target.name, cause)
                )
            case OverflowKind.CALLBACK:
                self._to_callback(call, call.caller.strip(), now)
                if target.name is not None and target.name != source:
                    call.queue, call.queued_at = target.name, now
                self._emit(
                    ev.CallOverflowed(now, call.call_id, source, target.kind, call.queue, cause)
                )
                assert call.callback is not None
                self._emit(
                    ev.CallbackRequested(
                        now, call.call_id, call.queue, call.callback, self._position(call)
                    )
                )
            case OverflowKind.TICKET_ONLY:
                self._stats[source].record_overflowed(now, waited)
                del self._calls[call.call_id]
                self._emit(ev.CallOverflowed(now, call.call_id, source, target.kind, None, cause))
        self._file(call)

    def _remember_place(self, call: AcdCall, now: float) -> None:
        window = self._queues[call.queue].resume_window_seconds
        self._left = {
            key: p
            for key, p in self._left.items()
            if now - p.left_at <= self._queues[key[1]].resume_window_seconds
        }
        if window > 0 and callable_number(call.caller):
            self._left[(call.caller, call.queue)] = Place(
                call.call_id, call.enqueued_at, call.arrival, now
            )

    def _resume_place(self, caller: str, queue: str, now: float) -> Place | None:
        place = self._left.pop((caller, queue), None)
        if place is None or now - place.left_at > self._queues[queue].resume_window_seconds:
            return None
        return place

    # ----- internals: offers and agent states ------------------------------------------

    def _offer(self, call: AcdCall, agents: list[Agent], now: float, remember: bool = True) -> None:
        call.phase, call.offered_at, call.not_before = CallPhase.OFFERED, now, None
        call.offered_to = [a.agent_id for a in agents]
        call.agent_id = agents[0].agent_id if len(agents) == 1 else None
        self._file(call)
        if remember and len(agents) == 1:
            self._memory.last_offered[call.queue] = rank(agents[0], call.queue)
        timeout = self._queues[call.queue].ring_timeout_seconds
        for agent in agents:
            self._change(agent, AgentState.OFFERED, None, call.call_id)
            self._emit(
                ev.CallOffered(
                    now, call.call_id, call.queue, agent.agent_id, timeout, call.callback
                )
            )

    def _fail_offer(self, call: AcdCall, agent_id: str, reason: OfferFailure) -> None:
        """Take one agent off a ringing call and out of rotation; the call keeps its place,
        and waits again once no agent rings with it."""
        agent = self._agents[agent_id]
        now = self._clock.now()
        call.offered_to.remove(agent_id)
        if not call.offered_to:
            call.phase, call.agent_id, call.offered_at = CallPhase.WAITING, None, None
        else:
            call.agent_id = call.offered_to[0] if len(call.offered_to) == 1 else None
        self._file(call)
        self._emit(ev.OfferWithdrawn(now, call.call_id, call.queue, agent_id, reason))
        pending = agent.pending_state
        agent.pending_state = agent.pending_reason = None
        if pending is AgentState.LOGGED_OUT:
            self._change(agent, AgentState.LOGGED_OUT, None)
        else:
            self._change(agent, AgentState.PAUSED, OFFER_FAILURE_PAUSE_REASON[reason])

    def _withdraw(
        self, call: AcdCall, agent_ids: list[str], now: float, answered_by: str | None = None
    ) -> None:
        """Stop offers that ended through no fault of the agents: they keep their place
        as the longest idle."""
        for agent_id in agent_ids:
            self._emit(
                ev.OfferWithdrawn(now, call.call_id, call.queue, agent_id, None, answered_by)
            )
            self._free(self._agents[agent_id], keep_idle_since=True)

    def _release(
        self, agent: Agent, queue: str, call_id: str, answered_at: float, now: float
    ) -> None:
        """The agent's part of a connected call of `queue` is over: wrap-up, or free."""
        talk = now - answered_at
        agent.count_day(self.day_of(now))
        agent.talk_seconds_today += talk
        wrap_up = self._queues[queue].wrap_up_seconds
        if wrap_up > 0:
            self._wrap_up[agent.agent_id] = (now + wrap_up, answered_at, queue)
            self._change(agent, AgentState.WRAP_UP, None, call_id)
        else:
            self._stats[queue].record_handled(now, talk)
            self._free(agent)

    def _finish_wrap_up(self, agent: Agent) -> None:
        entry = self._wrap_up.pop(agent.agent_id, None)
        if entry is not None:
            _, answered_at, queue = entry
            now = self._clock.now()
            stats = self._stats.get(queue)  # None: a queue dropped from the configuration
            if stats is not None:
                stats.record_handled(now, now - answered_at)

    def _free(self, agent: Agent, keep_idle_since: bool = False) -> None:
        """The agent has no call any more: apply what was asked meanwhile, else available."""
        state = agent.pending_state or AgentState.AVAILABLE
        reason = agent.pending_reason
        agent.pending_state = agent.pending_reason = None
        idle_since = agent.idle_since
        self._change(agent, state, reason)
        if keep_idle_since:
            agent.idle_since = idle_since
            self._available.sync(agent)  # its place in a longest-idle order comes back too

    def _change(
        self, agent: Agent, state: AgentState, reason: str | None, call_id: str | None = None
    ) -> None:
        now = self._clock.now()
        old = agent.state
        agent.state, agent.state_since, agent.reason, agent.call_id = state, now, reason, call_id
        if state is AgentState.AVAILABLE:
            agent.idle_since = now
        self._available.sync(agent)
        self._activity.record(agent.agent_id, state, now)
        self._emit(ev.AgentStateChanged(now, agent.agent_id, old, state, reason, call_id))

    # ----- internals: routing and publishing -------------------------------------------

    def _route(self) -> None:
        """Offer waiting calls to free agents: calls in line order across the queues, each
        to the agents `routing.choose` picks among its queue's free agents.

        Only queues with a free agent can make an offer, so only their lines are walked,
        merged by place in line (a heap of each queue's next place); a queue leaves the
        walk when its line ends or its last free agent was taken. The outcome is the same
        as walking every waiting call of every queue in line order. For the strategies
        with a fixed order the free agents are kept sorted (index.FreeAgents).
        """
        now = self._clock.now()
        day = self.day_of(now)
        self._available.set_day(day, self._agents.values())
        walk: list[tuple[Key, str]] = self._lines.heads(self._available.queues())
        heapq.heapify(walk)
        while walk:
            key, queue = heapq.heappop(walk)
            free = self._available.of(queue)
            if not free:
                continue
            call = self._lines.at(queue, key)
            settings = self._queues[queue]
            if call.not_before is None or call.not_before <= now:
                if settings.strategy in ORDERED:
                    ordered, agent_at = self._available.ordered(queue)
                    chosen = choose_in_order(
                        call, settings, ordered, agent_at, now=now, memory=self._memory
                    )
                else:
                    chosen = choose(
                        call,
                        settings,
                        list(free.values()),
                        now=now,
                        day=day,
                        rng=self._rng,
                        memory=self._memory,
                    )
                if chosen:
                    self._offer(call, chosen, now)
            following = self._lines.first_after(queue, key)
            if following is not None and free:
                heapq.heappush(walk, (following, queue))

    def _emit(self, event: ev.AcdEvent) -> None:
        self._pending.append(event)

    def _route_and_flush(self) -> None:
        self._route()
        if self._flushing:
            return  # the outer flush publishes what nested calls produced
        self._flushing = True
        try:
            while self._pending:
                self._publish(self._pending.pop(0))
        finally:
            self._flushing = False

    def _check_targets(self) -> None:
        for settings in self._queues.values():
            target = settings.overflow_target
            if target is None or target.name is None:
                continue
            self.queue_settings(target.name)
            if target.kind is OverflowKind.QUEUE and target.name == settings.name:
                raise InvalidSetting(f"queue {settings.name!r} overflows into itself")


def new_statistics(settings: QueueSettings) -> QueueStatistics:
    return QueueStatistics(
        settings.service_level_seconds,
        settings.short_abandon_seconds,
        settings.service_level_formula,
    )


def checked_skills(skills: Mapping[str, int]) -> dict[str, int]:
    return {name: check_level(level, f"skill {name!r}") for name, level in skills.items()}


#: A call carries at most this many attributes, each name and value at most this long:
#: they travel in every replicated command and snapshot.
MAX_ATTRIBUTES = 16
MAX_ATTRIBUTE_LENGTH = 200


def checked_attributes(attributes: Mapping[str, str]) -> dict[str, str]:
    if len(attributes) > MAX_ATTRIBUTES:
        raise InvalidSetting(f"a call carries at most {MAX_ATTRIBUTES} attributes")
    checked = {str(k): str(v) for k, v in attributes.items()}
    for name, value in checked.items():
        if not name or len(name) > MAX_ATTRIBUTE_LENGTH or len(value) > MAX_ATTRIBUTE_LENGTH:
            raise InvalidSetting(f"call attribute {name[:40]!r}: name or value empty or too long")
    return checked
