"""The automatic call distributor: who gets which caller, and when.

Every public method changes state, routes what can be routed, and only then publishes
the events it produced, so a subscriber that calls back into the ACD always finds it
consistent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from callcenter.acd import events as ev
from callcenter.acd.errors import InvalidTransition, UnknownAgent, UnknownCall, UnknownQueue
from callcenter.acd.model import (
    REQUESTABLE_STATES,
    AcdCall,
    Agent,
    AgentState,
    CallPhase,
    OfferFailure,
    QueueSettings,
)
from callcenter.acd.service_level import QueueStatistics
from callcenter.clock import Clock

#: The reason an agent is paused with when its phone fails an offer.
OFFER_FAILURE_PAUSE_REASON = {
    OfferFailure.NO_ANSWER: "no answer",
    OfferFailure.BUSY: "busy",
    OfferFailure.REJECTED: "rejected",
    OfferFailure.UNREACHABLE: "unreachable",
}


@dataclass(frozen=True)
class QueueSnapshot:
    name: str
    waiting: int
    longest_wait_seconds: float
    agents: dict[AgentState, int]
    offered_total: int
    answered_total: int
    abandoned_total: int
    service_level_seconds: float
    service_level_target: float


class Acd:
    def __init__(
        self,
        queues: Iterable[QueueSettings],
        clock: Clock,
        publish: Callable[[ev.AcdEvent], None],
    ) -> None:
        self._clock = clock
        self._publish = publish
        self._queues = {q.name: q for q in queues}
        self._stats = {
            q.name: QueueStatistics(q.service_level_seconds, q.short_abandon_seconds)
            for q in self._queues.values()
        }
        self._agents: dict[str, Agent] = {}
        self._calls: dict[str, AcdCall] = {}
        self._pending: list[ev.AcdEvent] = []
        self._flushing = False
        #: Per agent in wrap-up: when it ends and the answer time of the call it follows.
        self._wrap_up: dict[str, tuple[float, float, str]] = {}
        self._arrivals = 0

    # ----- configuration -------------------------------------------------------------

    @property
    def queue_names(self) -> list[str]:
        return list(self._queues)

    def queue_settings(self, name: str) -> QueueSettings:
        try:
            return self._queues[name]
        except KeyError:
            raise UnknownQueue(name) from None

    def add_agent(self, agent_id: str, queues: Iterable[str]) -> None:
        """Add a logged-out agent, or change the queues of a known one.

        A known agent keeps its state: replacing it would orphan a call it is ringing
        with or talking on, and let it be offered a second one.
        """
        wanted = frozenset(queues)
        for name in wanted:
            self.queue_settings(name)
        known = self._agents.get(agent_id)
        if known is not None:
            known.queues = wanted
            self._route_and_flush()
            return
        now = self._clock.now()
        self._agents[agent_id] = Agent(agent_id, wanted, state_since=now, idle_since=now)

    # ----- views -----------------------------------------------------------------------

    def agent(self, agent_id: str) -> Agent:
        try:
            return self._agents[agent_id]
        except KeyError:
            raise UnknownAgent(agent_id) from None

    @property
    def agents(self) -> list[Agent]:
        return list(self._agents.values())

    def call(self, call_id: str) -> AcdCall:
        try:
            return self._calls[call_id]
        except KeyError:
            raise UnknownCall(call_id) from None

    def has_call(self, call_id: str) -> bool:
        return call_id in self._calls

    def statistics(self, queue: str) -> QueueStatistics:
        self.queue_settings(queue)
        return self._stats[queue]

    def waiting_calls(self, queue: str) -> list[AcdCall]:
        """Calls waiting in one queue, in the order they will be served."""
        self.queue_settings(queue)
        waiting = [
            c for c in self._calls.values() if c.queue == queue and c.phase is CallPhase.WAITING
        ]
        return sorted(waiting, key=AcdCall.order_key)

    def snapshot(self, queue: str) -> QueueSnapshot:
        settings = self.queue_settings(queue)
        now = self._clock.now()
        in_queue = [
            c
            for c in self._calls.values()
            if c.queue == queue and c.phase is not CallPhase.CONNECTED
        ]
        by_state = dict.fromkeys(AgentState, 0)
        for agent in self._agents.values():
            if queue in agent.queues:
                by_state[agent.state] += 1
        stats = self._stats[queue]
        return QueueSnapshot(
            name=queue,
            waiting=len(in_queue),
            longest_wait_seconds=max((now - c.enqueued_at for c in in_queue), default=0.0),
            agents=by_state,
            offered_total=stats.offered_total,
            answered_total=stats.answered_total,
            abandoned_total=stats.abandoned_total,
            service_level_seconds=settings.service_level_seconds,
            service_level_target=settings.service_level_target,
        )

    # ----- agent requests --------------------------------------------------------------

    def set_agent_state(
        self, agent_id: str, state: AgentState, reason: str | None = None
    ) -> AgentState | None:
        """Apply a state an agent or supervisor asked for.

        Returns the state left pending when the agent is busy with a call: it applies
        when the call and its wrap-up end, so a caller is never cut off by a pause.
        """
        agent = self.agent(agent_id)
        if state not in REQUESTABLE_STATES:
            raise InvalidTransition(f"{state} cannot be requested, it follows from calls")
        # Only a pause has a reason; dropping the others here keeps a repeated "available"
        # from looking like a change (which would cost the agent its place in line).
        reason = reason if state is AgentState.PAUSED else None
        if agent.state in (AgentState.OFFERED, AgentState.ON_CALL):
            agent.pending_state, agent.pending_reason = state, reason
            return state
        if agent.state is AgentState.WRAP_UP:
            self._finish_wrap_up(agent)
        agent.pending_state = agent.pending_reason = None
        if agent.state is not state or agent.reason != reason:
            self._change(agent, state, reason)
        self._route_and_flush()
        return None

    def end_wrap_up(self, agent_id: str) -> None:
        """The agent finished its after-call work before the wrap-up time ran out."""
        agent = self.agent(agent_id)
        if agent.state is not AgentState.WRAP_UP:
            raise InvalidTransition(f"agent {agent_id!r} is not in wrap-up")
        self._finish_wrap_up(agent)
        self._free(agent)
        self._route_and_flush()

    # ----- call lifecycle --------------------------------------------------------------

    def enqueue(self, call_id: str, queue: str, caller: str, priority: int = 0) -> None:
        self.queue_settings(queue)
        if call_id in self._calls:
            raise InvalidTransition(f"call {call_id!r} is already queued")
        now = self._clock.now()
        self._arrivals += 1
        call = AcdCall(call_id, queue, caller, priority, enqueued_at=now, arrival=self._arrivals)
        self._calls[call_id] = call
        self._stats[queue].record_offered()
        position = 1 + sum(1 for c in self.waiting_calls(queue) if c.order_key() < call.order_key())
        self._emit(ev.CallEnqueued(now, call_id, queue, caller, priority, position))
        self._route_and_flush()

    def answered(self, call_id: str) -> None:
        """The offered agent took the call: the caller is connected."""
        call = self._expect(call_id, CallPhase.OFFERED)
        assert call.agent_id is not None
        agent = self._agents[call.agent_id]
        now = self._clock.now()
        call.phase, call.answered_at = CallPhase.CONNECTED, now
        wait = now - call.enqueued_at
        settings = self._queues[call.queue]
        within = wait <= settings.service_level_seconds
        self._stats[call.queue].record_answered(now, wait)
        agent.calls_answered += 1
        self._change(agent, AgentState.ON_CALL, None, call_id)
        self._emit(ev.CallAnswered(now, call_id, call.queue, agent.agent_id, wait, within))
        self._route_and_flush()

    def offer_failed(self, call_id: str, reason: OfferFailure) -> None:
        """The agent's phone did not take the offer: pause the agent, the call keeps its place."""
        self._fail_offer(self._expect(call_id, CallPhase.OFFERED), reason)
        self._route_and_flush()

    def hangup(self, call_id: str) -> None:
        """The call ended: an abandon while waiting or ringing, a completed call otherwise."""
        call = self.call(call_id)
        now = self._clock.now()
        del self._calls[call_id]
        stats = self._stats[call.queue]
        if call.phase is CallPhase.CONNECTED:
            assert call.agent_id is not None and call.answered_at is not None
            agent = self._agents[call.agent_id]
            self._emit(
                ev.CallCompleted(now, call_id, call.queue, agent.agent_id, now - call.answered_at)
            )
            wrap_up = self._queues[call.queue].wrap_up_seconds
            if wrap_up > 0:
                self._wrap_up[agent.agent_id] = (now + wrap_up, call.answered_at, call.queue)
                self._change(agent, AgentState.WRAP_UP, None, call_id)
            else:
                stats.record_handled(now, now - call.answered_at)
                self._free(agent)
        else:
            wait = now - call.enqueued_at
            if call.phase is CallPhase.OFFERED:
                assert call.agent_id is not None
                agent = self._agents[call.agent_id]
                self._emit(ev.OfferWithdrawn(now, call_id, call.queue, agent.agent_id, None))
                # Not the agent's fault: it keeps its place as the longest idle.
                self._free(agent, keep_idle_since=True)
            stats.record_abandoned(now, wait)
            self._emit(
                ev.CallAbandoned(now, call_id, call.queue, wait, stats.is_short_abandon(wait))
            )
        self._route_and_flush()

    def tick(self) -> None:
        """Let time act: ring-no-answer and the end of wrap-up.

        Everything due is applied before anything is published: a subscriber that hangs
        up or answers from inside the publish must not change the calls under this loop.
        """
        now = self._clock.now()
        for call in list(self._calls.values()):
            if call.phase is CallPhase.OFFERED and call.offered_at is not None:
                timeout = self._queues[call.queue].ring_timeout_seconds
                if now - call.offered_at >= timeout:
                    self._fail_offer(call, OfferFailure.NO_ANSWER)
        for agent_id, (until, _, _) in list(self._wrap_up.items()):
            if now >= until:
                agent = self._agents[agent_id]
                self._finish_wrap_up(agent)
                self._free(agent)
        self._route_and_flush()

    # ----- internals -------------------------------------------------------------------

    def _expect(self, call_id: str, phase: CallPhase) -> AcdCall:
        call = self.call(call_id)
        if call.phase is not phase:
            raise InvalidTransition(f"call {call_id!r} is {call.phase}, not {phase}")
        return call

    def _fail_offer(self, call: AcdCall, reason: OfferFailure) -> None:
        """Put a ringing call back in line (same place) and take its agent out of rotation."""
        assert call.agent_id is not None
        agent = self._agents[call.agent_id]
        now = self._clock.now()
        call.phase, call.agent_id, call.offered_at = CallPhase.WAITING, None, None
        self._emit(ev.OfferWithdrawn(now, call.call_id, call.queue, agent.agent_id, reason))
        pending = agent.pending_state
        agent.pending_state = agent.pending_reason = None
        if pending is AgentState.LOGGED_OUT:
            self._change(agent, AgentState.LOGGED_OUT, None)
        else:
            self._change(agent, AgentState.PAUSED, OFFER_FAILURE_PAUSE_REASON[reason])

    def _finish_wrap_up(self, agent: Agent) -> None:
        entry = self._wrap_up.pop(agent.agent_id, None)
        if entry is not None:
            _, answered_at, queue = entry
            now = self._clock.now()
            self._stats[queue].record_handled(now, now - answered_at)

    def _free(self, agent: Agent, keep_idle_since: bool = False) -> None:
        """The agent has no call any more: apply what was asked meanwhile, else available."""
        state = agent.pending_state or AgentState.AVAILABLE
        reason = agent.pending_reason
        agent.pending_state = agent.pending_reason = None
        idle_since = agent.idle_since
        self._change(agent, state, reason)
        if keep_idle_since:
            agent.idle_since = idle_since

    def _change(
        self, agent: Agent, state: AgentState, reason: str | None, call_id: str | None = None
    ) -> None:
        now = self._clock.now()
        old = agent.state
        agent.state, agent.state_since, agent.reason, agent.call_id = state, now, reason, call_id
        if state is AgentState.AVAILABLE:
            agent.idle_since = now
        self._emit(ev.AgentStateChanged(now, agent.agent_id, old, state, reason, call_id))

    def _route(self) -> None:
        free = [a for a in self._agents.values() if a.state is AgentState.AVAILABLE]
        if not free:
            return
        waiting = sorted(
            (c for c in self._calls.values() if c.phase is CallPhase.WAITING),
            key=AcdCall.order_key,
        )
        now = self._clock.now()
        for call in waiting:
            candidates = [a for a in free if call.queue in a.queues]
            if not candidates:
                continue
            agent = min(candidates, key=lambda a: (a.idle_since, a.agent_id))
            free.remove(agent)
            call.phase, call.agent_id, call.offered_at = CallPhase.OFFERED, agent.agent_id, now
            self._change(agent, AgentState.OFFERED, None, call.call_id)
            timeout = self._queues[call.queue].ring_timeout_seconds
            self._emit(ev.CallOffered(now, call.call_id, call.queue, agent.agent_id, timeout))
            if not free:
                return

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
