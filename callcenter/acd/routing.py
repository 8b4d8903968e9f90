"""Which free agent (or agents, for ring-all) gets a call.

Three filters, then the queue's strategy:

1. membership: the agent serves the call's queue;
2. skills: the agent has every skill the call needs at the level it needs *now*
   (requirements relax as the call waits, `QueueSettings.skill_relaxation`); this holds
   for every strategy, so a caller who needs German never reaches an agent without it
   until the queue's relaxation says anyone will do;
3. penalty: only the free agents with the lowest penalty in the queue are considered, so
   a higher-penalty agent gets a call only when no lower-penalty agent is free.

Ties left by a strategy go to the longest-idle agent, then the agent id, so routing is
deterministic for a given state (and a given random generator).
"""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter

from callcenter.acd.model import AcdCall, Agent, QueueSettings, Strategy

#: An agent's place in the fixed order of a queue: (membership order, order added, id).
Rank = tuple[int, int, str]


@dataclass
class RoutingMemory:
    """What routing remembers between calls: the last agent offered a call, per queue."""

    last_offered: dict[str, Rank] = field(default_factory=dict)


def rank(agent: Agent, queue: str) -> Rank:
    membership = agent.memberships.get(queue)
    order = membership.order if membership is not None else 0
    return (order, agent.seq, agent.agent_id)


def requirements(call: AcdCall, settings: QueueSettings, now: float) -> dict[str, int] | None:
    """The skills the call needs now, skill -> minimum level; None: anyone in the queue."""
    needs = dict(call.skills)
    waited = now - call.queued_at
    for step in settings.skill_relaxation:
        if waited < step.after_seconds:
            continue
        if step.min_level is None:
            return None
        needs = {skill: min(level, step.min_level) for skill, level in needs.items()}
    return needs


def meets(agent: Agent, needs: Mapping[str, int] | None) -> bool:
    if not needs:
        return True
    return all(agent.skills.get(skill, 0) >= level for skill, level in needs.items())


def skill_score(agent: Agent, call: AcdCall) -> int:
    """How well the agent matches: its levels in the skills the call names (as first
    asked, not as relaxed), or its level in the queue when the call names none."""
    if call.skills:
        return sum(agent.skills.get(skill, 0) for skill in call.skills)
    membership = agent.memberships.get(call.queue)
    return membership.level if membership is not None else 0


def choose(
    call: AcdCall,
    settings: QueueSettings,
    free: Sequence[Agent],
    *,
    now: float,
    day: int,
    rng: random.Random,
    memory: RoutingMemory,
) -> list[Agent]:
    """The agents to offer the call to: none, one, or (ring-all) every one of the tier."""
    queue = call.queue
    needs = requirements(call, settings, now)
    if needs:
        members = [a for a in free if queue in a.memberships and meets(a, needs)]
    else:  # the common case, spared a call per agent
        members = [a for a in free if queue in a.memberships]
    if not members:
        return []
    penalties = [a.memberships[queue].penalty for a in members]
    lowest = min(penalties)
    if max(penalties) == lowest:  # the usual case: one penalty for the whole queue
        tier = members
    else:
        tier = [a for a, penalty in zip(members, penalties, strict=True) if penalty == lowest]
    idle = attrgetter("idle_since", "agent_id")  # (idle since, id): longest idle first

    match settings.strategy:
        case Strategy.LONGEST_IDLE:
            return [min(tier, key=idle)]
        case Strategy.ROUND_ROBIN:
            last = memory.last_offered.get(queue)
            ranked = [(rank(a, queue), a) for a in tier]  # ranks are unique: agents never compared
            after = [pair for pair in ranked if last is None or pair[0] > last]
            return [min(after or ranked)[1]]
        case Strategy.LINEAR:
            return [min(tier, key=lambda a: rank(a, queue))]
        case Strategy.FEWEST_CALLS:
            return [min(tier, key=lambda a: (a.calls_on(day), *idle(a)))]
        case Strategy.LEAST_TALK_TIME:
            return [min(tier, key=lambda a: (a.talk_seconds_on(day), *idle(a)))]
        case Strategy.RANDOM:
            return [rng.choice(sorted(tier, key=lambda a: a.agent_id))]
        case Strategy.RING_ALL:
            return sorted(tier, key=lambda a: rank(a, queue))
        case Strategy.SKILLS_BASED:
            return [min(tier, key=lambda a: (-skill_score(a, call), *idle(a)))]


#: Strategies whose choice is the first agent, in a fixed order, of the free agents that
#: meet the call's needs (see `free_order`): routing can keep the free agents sorted.
ORDERED = frozenset(
    {
        Strategy.LONGEST_IDLE,
        Strategy.ROUND_ROBIN,
        Strategy.LINEAR,
        Strategy.FEWEST_CALLS,
        Strategy.LEAST_TALK_TIME,
    }
)

#: A free agent's place in a queue's order: penalty first, then what `choose` compares.
Order = tuple[int | float | str, ...]


def free_order(strategy: Strategy, agent: Agent, queue: str, day: int) -> Order:
    """Where a free agent stands in the queue's order for `choose_in_order`: the lowest
    penalty first, then by the strategy's key (the one `choose` takes the minimum of).
    It stays put while the agent is free, except that the day-counters restart at midnight.
    Unordered strategies only need a unique key."""
    penalty = agent.memberships[queue].penalty
    match strategy:
        case Strategy.LONGEST_IDLE:
            return (penalty, agent.idle_since, agent.agent_id)
        case Strategy.ROUND_ROBIN | Strategy.LINEAR:
            return (penalty, *rank(agent, queue))
        case Strategy.FEWEST_CALLS:
            return (penalty, agent.calls_on(day), agent.idle_since, agent.agent_id)
        case Strategy.LEAST_TALK_TIME:
            return (penalty, agent.talk_seconds_on(day), agent.idle_since, agent.agent_id)
        case _:
            return (agent.agent_id,)


def choose_in_order(
    call: AcdCall,
    settings: QueueSettings,
    ordered: Sequence[Order],
    agent_at: Mapping[Order, Agent],
    *,
    now: float,
    memory: RoutingMemory,
) -> list[Agent]:
    """What `choose` returns for an ORDERED strategy, given the queue's free agents sorted
    by `free_order`: the first that meets the call's needs is the minimum of the lowest
    penalty tier. Round robin takes the first of that tier after the last agent offered
    a call, else that first one. Costs the agents skipped for skills, not all free ones."""
    needs = requirements(call, settings, now)
    first = next((key for key in ordered if meets(agent_at[key], needs)), None)
    if first is None:
        return []
    last = memory.last_offered.get(call.queue)
    if settings.strategy is Strategy.ROUND_ROBIN and last is not None:
        tier = first[0]
        for at in range(bisect_right(ordered, (tier, *last)), len(ordered)):
            key = ordered[at]
            if key[0] != tier:
                break
            if meets(agent_at[key], needs):
                return [agent_at[key]]
    return [agent_at[first]]
