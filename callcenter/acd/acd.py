"""The automatic call distributor: who gets which caller, and when.

Every public method changes state, routes what can be routed, and only then publishes
the events it produced, so a subscriber that calls back into the ACD always finds it
consistent. Choosing agents is routing.py's job, queue limits overflow.py's, callback
retries callbacks.py's, wait estimates estimate.py's, figures service_level.py's; the
mechanics shared by the operations (offers, state changes, publishing) are core.py's.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from callcenter.acd import callbacks as cb
from callcenter.acd import events as ev
from callcenter.acd.core import (
    CONSULT_PAUSE_REASON,
    OFFER_FAILURE_PAUSE_REASON,
    SYSTEM_PAUSE_REASONS,
    AcdCore,
    Place,
    checked_attributes,
    checked_skills,
    new_statistics,
)
from callcenter.acd.errors import (
    InvalidSetting,
    InvalidTransition,
    UnknownAgent,
    UnknownPauseReason,
)
from callcenter.acd.estimate import wait_for_position
from callcenter.acd.model import (
    DEFAULT_PAUSE_REASONS,
    REQUESTABLE_STATES,
    AcdCall,
    Agent,
    AgentState,
    CallPhase,
    Membership,
    OfferFailure,
    OverflowCause,
)
from callcenter.acd.occupancy import AgentActivity
from callcenter.acd.overflow import callable_number, cause_at_join, overdue
from callcenter.acd.persistence import (
    SHAPE_ERRORS,
    agent_from_dict,
    agent_to_dict,
    call_from_dict,
    call_to_dict,
    shape_error,
)
from callcenter.acd.routing import RoutingMemory
from callcenter.acd.service_level import QueueStatistics

__all__ = [
    "DEFAULT_PAUSE_REASONS",
    "OFFER_FAILURE_PAUSE_REASON",
    "SYSTEM_PAUSE_REASONS",
    "Acd",
    "QueueSnapshot",
]

#: The window the wait estimate takes its recent handle time from.
AHT_WINDOW_SECONDS = 3600.0

STATE_VERSION = 1

#: Agent states that staff a queue for the wait estimate.
_STAFFED = frozenset(
    {AgentState.AVAILABLE, AgentState.OFFERED, AgentState.ON_CALL, AgentState.WRAP_UP}
)


@dataclass(frozen=True)
class QueueSnapshot:
    name: str
    waiting: int  # calls in line, ringing included, queued callbacks included
    longest_wait_seconds: float  # of the callers on hold (callbacks are not on hold)
    agents: dict[AgentState, int]
    offered_total: int
    answered_total: int
    abandoned_total: int
    service_level_seconds: float
    service_level_target: float
    callbacks_waiting: int = 0


class Acd(AcdCore):
    """One process's call distributor; construct it with the queues, a clock and where
    to publish (see AcdCore for the keyword options)."""

    # ----- configuration -------------------------------------------------------------

    @property
    def queue_names(self) -> list[str]:
        return list(self._queues)

    @property
    def pause_reasons(self) -> frozenset[str]:
        return self._pause_reasons

    def add_agent(
        self,
        agent_id: str,
        queues: Iterable[str] | Mapping[str, Membership],
        skills: Mapping[str, int] | None = None,
    ) -> None:
        """Add a logged-out agent, or change the queues (and skills) of a known one.

        `queues` is a mapping queue -> Membership, or bare queue names: a new membership
        then gets the default level (5) and penalty (0), and a known agent keeps the
        level and penalty it has in a queue it already serves.

        A known agent keeps its state: replacing it would orphan a call it is ringing
        with or talking on, and let it be offered a second one.
        """
        known = self._agents.get(agent_id)
        memberships = self._memberships(queues, known.memberships if known else {})
        new_skills = checked_skills(skills) if skills is not None else None
        if known is not None:
            self._update_agent(known, memberships, new_skills)
            return
        now = self._clock.now()
        agent = Agent(
            agent_id,
            memberships,
            state_since=now,
            idle_since=now,
            skills=new_skills or {},
            seq=len(self._agents),
        )
        self._agents[agent_id] = agent
        self._sync_agent(agent)
        self._activity.record(agent_id, agent.state, now)

    def set_membership(
        self, agent_id: str, memberships: Iterable[str] | Mapping[str, Membership]
    ) -> None:
        """Replace the agent's queues (levels, penalties) at once; calls are routed by them
        from now on. A call the agent is ringing with or talking on is not taken away."""
        agent = self.agent(agent_id)
        self._update_agent(agent, self._memberships(memberships, agent.memberships), None)

    def set_skills(self, agent_id: str, skills: Mapping[str, int]) -> None:
        agent = self.agent(agent_id)
        self._update_agent(agent, dict(agent.memberships), checked_skills(skills))

    # ----- views -----------------------------------------------------------------------

    def agent(self, agent_id: str) -> Agent:
        try:
            return self._agents[agent_id]
        except KeyError:
            raise UnknownAgent(agent_id) from None

    @property
    def agents(self) -> list[Agent]:
        return list(self._agents.values())

    def has_call(self, call_id: str) -> bool:
        return call_id in self._calls

    def statistics(self, queue: str) -> QueueStatistics:
        self.queue_settings(queue)
        return self._stats[queue]

    def waiting_calls(self, queue: str) -> list[AcdCall]:
        """Calls waiting in one queue (callbacks included), in the order they will be served."""
        self.queue_settings(queue)
        return self._lines.waiting(queue)

    def snapshot(self, queue: str) -> QueueSnapshot:
        settings = self.queue_settings(queue)
        now = self._clock.now()
        in_queue = [
            c
            for c in self._calls.values()
            if c.queue == queue and c.phase is not CallPhase.CONNECTED
        ]
        on_hold = [c for c in in_queue if c.callback is None]
        by_state = dict.fromkeys(AgentState, 0)
        for agent in self._members.of(queue).values():
            by_state[agent.state] += 1
        stats = self._stats[queue]
        return QueueSnapshot(
            name=queue,
            waiting=len(in_queue),
            longest_wait_seconds=max((now - c.enqueued_at for c in on_hold), default=0.0),
            agents=by_state,
            offered_total=stats.offered_total,
            answered_total=stats.answered_total,
            abandoned_total=stats.abandoned_total,
            service_level_seconds=settings.service_level_seconds,
            service_level_target=settings.service_level_target,
            callbacks_waiting=len(in_queue) - len(on_hold),
        )

    def estimated_wait(self, queue: str, position: int) -> float | None:
        """Seconds the caller at `position` (1: next) should wait; None without staffed
        agents. The model is described in estimate.py."""
        settings = self.queue_settings(queue)
        if position < 1:
            raise InvalidSetting(f"position {position} is not 1 or more")
        now = self._clock.now()
        stats = self._stats[queue]
        if (
            position <= len(self._available.of(queue))
            and stats.handle_times_non_negative()
            and settings.default_aht_seconds >= 0
        ):
            # The AHT is 0 or more, so is every release, and `position` of them are 0 (the
            # free agents): what wait_for_position gives, without reading the last hour's
            # handle times or passing over the members. A call arriving to a free agent.
            return 0.0
        aht = stats.aht_seconds(now, AHT_WINDOW_SECONDS)
        if aht is None:
            aht = settings.default_aht_seconds
        releases = [
            self._release_in(agent, aht, now)
            for agent in self._members.of(queue).values()
            if agent.state in _STAFFED
        ]
        return wait_for_position(position, releases, aht)

    def occupancy(self, agent_id: str, window_seconds: float = 3600.0) -> float | None:
        """Time on calls and in wrap-up over time logged in, in the last `window_seconds`."""
        self.agent(agent_id)
        return self._activity.occupancy(agent_id, self._clock.now(), window_seconds)

    # ----- agent requests --------------------------------------------------------------

    def set_agent_state(
        self, agent_id: str, state: AgentState, reason: str | None = None
    ) -> AgentState | None:
        """Apply a state an agent or supervisor asked for.

        A pause may give a reason from the configured list (`pause_reasons`); another
        reason is refused. Returns the state left pending when the agent is busy with a
        call: it applies when the call and its wrap-up end, so a caller is never cut off
        by a pause.
        """
        agent = self.agent(agent_id)
        if state not in REQUESTABLE_STATES:
            raise InvalidTransition(f"{state} cannot be requested, it follows from calls")
        # Only a pause has a reason; dropping the others here keeps a repeated "available"
        # from looking like a change (which would cost the agent its place in line).
        reason = reason if state is AgentState.PAUSED else None
        if reason is not None and reason not in self._pause_reasons:
            raise UnknownPauseReason(reason)
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

    def enqueue(
        self,
        call_id: str,
        queue: str,
        caller: str,
        priority: int = 0,
        skills: Mapping[str, int] | None = None,
        attributes: Mapping[str, str] | None = None,
    ) -> None:
        """A caller joins a queue, needing `skills` (skill -> minimum level) if given;
        `attributes` (the IVR's findings) ride along to the offer.

        A caller who hung up in this queue within its resume window gets the old place
        back: the call counts as a new offer, but its wait runs from the first arrival.
        A queue limit may send the call on at once (CallOverflowed follows CallEnqueued).
        """
        settings = self.queue_settings(queue)
        needs = checked_skills(skills or {})
        if call_id in self._calls:
            raise InvalidTransition(f"call {call_id!r} is already queued")
        now = self._clock.now()
        cause = cause_at_join(
            settings, lambda: self._live_in_line(queue), lambda: self._logged_in(queue)
        )
        self._arrivals += 1
        place = self._resume_place(caller, queue, now)
        call = AcdCall(
            call_id,
            queue,
            caller,
            priority,
            enqueued_at=place.enqueued_at if place else now,
            arrival=place.arrival if place else self._arrivals,
            skills=needs,
            attributes=checked_attributes(attributes or {}),
        )
        self._calls[call_id] = call
        self._file(call)
        self._stats[queue].record_offered(now)
        position = self._position(call)
        estimate = self.estimated_wait(queue, position)
        if estimate is not None:
            call.estimate = (now, estimate)
        self._emit(
            ev.CallEnqueued(
                now,
                call_id,
                queue,
                caller,
                priority,
                position,
                estimate,
                place.call_id if place else None,
                place.enqueued_at if place else None,
                dict(needs),
            )
        )
        if cause is not None:
            self._overflow(call, cause, now)
        self._route_and_flush()

    def answered(self, call_id: str, agent_id: str | None = None) -> None:
        """An offered agent took the call: the caller is connected to it.

        `agent_id` may be left out while one agent is offered the call; a ring-all call
        ringing several agents needs it, and the other offers are withdrawn. For a
        queued callback, the agent is connected and the callee is to be dialled.
        """
        call = self._expect(call_id, CallPhase.OFFERED)
        agent = self._agents[self._offered_agent(call, agent_id)]
        others = [a for a in call.offered_to if a != agent.agent_id]
        now = self._clock.now()
        call.phase, call.agent_id, call.offered_to = CallPhase.CONNECTED, agent.agent_id, []
        if call.callback is not None:
            call.dialing = True
            call.callback_attempts += 1
            self._change(agent, AgentState.ON_CALL, None, call_id)
            self._emit(
                ev.CallbackDialing(
                    now, call_id, call.queue, agent.agent_id, call.callback, call.callback_attempts
                )
            )
        else:
            call.answered_at = now
            queue_wait = now - call.queued_at
            settings = self._queues[call.queue]
            stats = self._stats[call.queue]
            stats.record_answered(now, queue_wait)
            if call.estimate is not None:
                made_at, seconds = call.estimate
                stats.record_estimate_error((now - made_at) - seconds)
                call.estimate = None
            self._count_call(agent, now)
            self._change(agent, AgentState.ON_CALL, None, call_id)
            within = queue_wait <= settings.service_level_seconds
            self._emit(
                ev.CallAnswered(
                    now, call_id, call.queue, agent.agent_id, now - call.enqueued_at, within
                )
            )
        self._withdraw(call, others, now, answered_by=agent.agent_id)
        self._route_and_flush()

    def offer_failed(self, call_id: str, reason: OfferFailure, agent_id: str | None = None) -> None:
        """An agent's phone did not take the offer: pause the agent, the call keeps its place.

        `agent_id` as for `answered`; a ring-all call waits again once every offer failed.
        """
        call = self._expect(call_id, CallPhase.OFFERED)
        self._fail_offer(call, self._offered_agent(call, agent_id), reason)
        self._route_and_flush()

    def hangup(self, call_id: str) -> None:
        """The call ended: an abandon while waiting or ringing, a completed call otherwise.

        A queued callback is not ended by its original caller's hang-up (that caller is
        expected to leave): it keeps its place, use `cancel_callback` to drop it. While
        its callee is being dialled, a hang-up is a failed dial.
        """
        call = self.call(call_id)
        now = self._clock.now()
        if call.callback is not None and call.phase is not CallPhase.CONNECTED:
            return
        if call.dialing:
            self._callback_failed(call, now)
            self._route_and_flush()
            return
        del self._calls[call_id]
        self._file(call)
        stats = self._stats[call.queue]
        if call.phase is CallPhase.CONNECTED:
            assert call.agent_id is not None and call.answered_at is not None
            agent = self._agents[call.agent_id]
            self._emit(
                ev.CallCompleted(now, call_id, call.queue, agent.agent_id, now - call.answered_at)
            )
            self._release(agent, call.queue, call_id, call.answered_at, now)
        else:
            queue_wait = now - call.queued_at
            self._withdraw(call, list(call.offered_to), now)
            stats.record_abandoned(now, queue_wait)
            self._emit(
                ev.CallAbandoned(
                    now,
                    call_id,
                    call.queue,
                    now - call.enqueued_at,
                    stats.is_short_abandon(queue_wait),
                )
            )
            self._remember_place(call, now)
        self._route_and_flush()

    def tick(self) -> None:
        """Let time act: ring-no-answer, the end of wrap-up, the queues' maximum wait,
        skill requirements relaxing and callbacks due for another try.

        Everything due is applied before anything is published: a subscriber that hangs
        up or answers from inside the publish must not change the calls under this loop.
        """
        now = self._clock.now()
        for call in list(self._calls.values()):
            if call.phase is CallPhase.OFFERED and call.offered_at is not None:
                timeout = self._queues[call.queue].ring_timeout_seconds
                if now - call.offered_at >= timeout:
                    for agent_id in list(call.offered_to):
                        self._fail_offer(call, agent_id, OfferFailure.NO_ANSWER)
        for agent_id, (until, _, _) in list(self._wrap_up.items()):
            if now >= until:
                agent = self._agents[agent_id]
                self._finish_wrap_up(agent)
                self._free(agent)
        too_long = [
            c
            for c in self._calls.values()
            if c.phase is CallPhase.WAITING
            and c.callback is None
            and overdue(self._queues[c.queue], now - c.queued_at)
        ]
        for call in sorted(too_long, key=AcdCall.order_key):
            self._overflow(call, OverflowCause.MAX_WAIT, now)
        self._route_and_flush()

    # ----- queued callbacks ------------------------------------------------------------

    def request_callback(self, call_id: str, number: str) -> None:
        """The waiting caller asks to be called back at `number` instead of holding.

        The call keeps its place in line as a callback; the caller may hang up. For the
        queue's figures the caller left the line here (outcome "callback", never an
        abandon).
        """
        call = self._expect(call_id, CallPhase.WAITING)
        if call.callback is not None:
            raise InvalidTransition(f"call {call_id!r} is already a callback")
        number = number.strip()
        if not callable_number(number):
            raise InvalidSetting(f"cannot call back {number!r}")
        now = self._clock.now()
        self._to_callback(call, number, now)
        self._emit(ev.CallbackRequested(now, call_id, call.queue, number, self._position(call)))
        self._route_and_flush()

    def callback_answered(self, call_id: str) -> None:
        """The callee picked up: the agent and the callee talk from now on."""
        call = self._dialing(call_id)
        assert call.agent_id is not None and call.callback is not None
        agent = self._agents[call.agent_id]
        now = self._clock.now()
        call.dialing, call.answered_at = False, now
        self._count_call(agent, now)
        self._stats[call.queue].record_callback_connected()
        self._emit(ev.CallbackConnected(now, call_id, call.queue, agent.agent_id, call.callback))
        self._route_and_flush()

    def callback_failed(self, call_id: str) -> None:
        """The callee did not answer (busy, no answer, unreachable): the agent is free, the
        callback waits for its next try at the head of the line, or is dropped."""
        call = self._dialing(call_id)
        self._callback_failed(call, self._clock.now())
        self._route_and_flush()

    def cancel_callback(self, call_id: str) -> None:
        """Drop a queued callback that has not reached its callee (e.g. the caller called
        back in the meantime)."""
        call = self.call(call_id)
        if call.callback is None or call.phase is CallPhase.CONNECTED:
            raise InvalidTransition(f"call {call_id!r} is not a queued callback")
        now = self._clock.now()
        del self._calls[call_id]
        self._file(call)
        self._withdraw(call, list(call.offered_to), now)
        self._emit(ev.CallbackCancelled(now, call_id, call.queue))
        self._route_and_flush()

    def export_callbacks(self) -> list[dict[str, Any]]:
        """Pending callbacks, in line order, as JSON-able dicts for `import_callbacks`."""
        pending = [c for c in self._calls.values() if cb.is_pending(c)]
        return [cb.to_entry(c) for c in sorted(pending, key=AcdCall.order_key)]

    def import_callbacks(self, entries: Iterable[Mapping[str, Any]]) -> None:
        """Put saved callbacks back in line at their old places (after a restart).

        All or nothing: a malformed entry, an unknown queue or a call id in use refuses
        the lot. No event is published: these are not new requests.
        """
        try:
            calls = [cb.from_entry(entry) for entry in entries]
        except SHAPE_ERRORS as exc:
            raise shape_error("callback", exc) from None
        ids = [c.call_id for c in calls]
        for call in calls:
            self.queue_settings(call.queue)
            if call.call_id in self._calls or ids.count(call.call_id) > 1:
                raise InvalidTransition(f"call {call.call_id!r} is already queued")
        for call in calls:
            self._calls[call.call_id] = call
            self._file(call)
            self._arrivals = max(self._arrivals, call.arrival)
        self._route_and_flush()

    # ----- transfers -------------------------------------------------------------------

    def transfer_to_queue(self, call_id: str, queue: str) -> None:
        """Move a waiting or connected call to another queue, where it counts as offered.

        A waiting call keeps its place by arrival; the queue it leaves counts it as
        transferred, with the wait it had there. A connected call's agent is released
        (wrap-up as after a completed call) and the call joins the new queue as a new
        arrival: its first answer already counted where it was answered.
        """
        target = self.queue_settings(queue).name
        call = self.call(call_id)
        self._check_transferable(call)
        now = self._clock.now()
        source, from_agent = call.queue, call.agent_id
        held = self._unhook(call, now)
        if held is None:
            self._stats[source].record_transferred(now, now - call.queued_at)
        call.queue, call.queued_at, call.estimate = target, now, None
        self._file(call)
        self._stats[target].record_offered(now)
        talk = now - held[1] if held else None
        self._emit(ev.CallTransferred(now, call_id, source, target, from_agent, None, talk))
        if held is not None:
            self._release(held[0], source, call_id, held[1], now)
        self._route_and_flush()

    def transfer_to_agent(self, call_id: str, agent_id: str, reserved: bool = False) -> None:
        """Offer a waiting or connected call to one available agent, whatever its queues.

        If that agent's phone fails the offer, the call waits in its queue as any call
        whose offer failed. A connected call's agent is released and the call counts as
        a new offer in its queue. `reserved`: the agent may instead be paused for a
        consultation (an attended transfer's target, kept from other calls meanwhile).
        """
        call = self.call(call_id)
        agent = self.agent(agent_id)
        self._check_transferable(call)
        consulted = (
            reserved and agent.state is AgentState.PAUSED and agent.reason == CONSULT_PAUSE_REASON
        )
        if agent.state is not AgentState.AVAILABLE and not consulted:
            raise InvalidTransition(f"agent {agent_id!r} is {agent.state}, not available")
        now = self._clock.now()
        from_agent = call.agent_id
        held = self._unhook(call, now)
        if held is not None:
            self._stats[call.queue].record_offered(now)
        talk = now - held[1] if held else None
        self._emit(
            ev.CallTransferred(now, call_id, call.queue, call.queue, from_agent, agent_id, talk)
        )
        if held is not None:
            self._release(held[0], call.queue, call_id, held[1], now)
        self._offer(call, [agent], now, remember=False)
        self._route_and_flush()

    # ----- persistence -----------------------------------------------------------------

    def export_state(self) -> dict[str, Any]:
        """Agents, calls, timers, routing memory and statistics as JSON-able data."""
        return {
            "version": STATE_VERSION,
            "arrivals": self._arrivals,
            "agents": [agent_to_dict(a) for a in self._agents.values()],
            "calls": [call_to_dict(c) for c in sorted(self._calls.values(), key=AcdCall.order_key)],
            "wrap_up": {a: [until, ans, q] for a, (until, ans, q) in self._wrap_up.items()},
            "last_offered": {q: list(r) for q, r in self._memory.last_offered.items()},
            "left": [
                [caller, queue, p.call_id, p.enqueued_at, p.arrival, p.left_at]
                for (caller, queue), p in self._left.items()
            ],
            "statistics": {q: s.export() for q, s in self._stats.items()},
            "activity": self._activity.export(),
            "rng": _rng_state(self._rng),
        }

    def restore_state(self, data: Mapping[str, Any]) -> None:
        """Take back what `export_state` gave, into an ACD without agents or calls yet.

        The configuration wins: statistics and memberships of queues no longer
        configured are dropped (a call waiting in one is refused). Nothing is published
        and nothing routed: call `tick()` once the edge is ready for events. Calls whose
        phone legs did not survive the restart are the edge's to hang up.
        """
        if self._agents or self._calls:
            raise InvalidTransition("state can only be restored into an empty ACD")
        try:
            if data["version"] != STATE_VERSION:
                raise ValueError(f"version {data['version']!r}")
            agents = [agent_from_dict(a) for a in data["agents"]]
            calls = [call_from_dict(c) for c in data["calls"]]
            wrap_up = {
                str(a): (float(until), float(ans), str(q))
                for a, (until, ans, q) in data["wrap_up"].items()
            }
            last = {
                str(q): (int(o), int(s), str(i)) for q, (o, s, i) in data["last_offered"].items()
            }
            left = {
                (str(caller), str(q)): Place(str(c), float(e), int(n), float(t))
                for caller, q, c, e, n, t in data["left"]
            }
            arrivals = int(data["arrivals"])
            stats = {}
            for name, exported in data["statistics"].items():
                if name in self._queues:
                    stats[name] = new_statistics(self._queues[name])
                    stats[name].restore(exported)
            activity = AgentActivity()
            activity.restore(data["activity"])
            rng = data.get("rng")  # states saved before it was kept have none
            if rng is not None:
                version, internal, gauss = rng
                self._rng.setstate((int(version), tuple(int(i) for i in internal), gauss))
        except SHAPE_ERRORS as exc:
            raise shape_error("ACD state", exc) from None
        for call in calls:
            self.queue_settings(call.queue)
        agent_ids, call_ids = {a.agent_id for a in agents}, {c.call_id for c in calls}
        if len(agent_ids) < len(agents) or len(call_ids) < len(calls):
            raise InvalidSetting("not a saved ACD state: an agent or call id repeats")
        for agent in agents:
            agent.memberships = {q: m for q, m in agent.memberships.items() if q in self._queues}
        left = {key: place for key, place in left.items() if key[1] in self._queues}
        last = {q: r for q, r in last.items() if q in self._queues}
        self._agents = {a.agent_id: a for a in agents}
        self._calls = {c.call_id: c for c in calls}
        self._wrap_up = wrap_up
        self._memory = RoutingMemory(last)
        self._left = left
        self._arrivals = arrivals
        self._stats.update(stats)
        self._activity = activity
        self._rebuild_indexes()


def _rng_state(rng: random.Random) -> list[Any]:
    """The random strategy's generator, kept so that a copy of the ACD restored from this
    state goes on choosing exactly as the original does (several processes, one ACD)."""
    version, internal, gauss = rng.getstate()
    return [version, list(internal), gauss]
