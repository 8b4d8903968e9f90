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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

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
    if needs is None:
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
    members = [a for a in free if queue in a.memberships and meets(a, needs)]
    if not members:
        return []
    lowest = min(a.memberships[queue].penalty for a in members)
    tier = [a for a in members if a.memberships[queue].penalty == lowest]

    def idle(agent: Agent) -> tuple[float, str]:
        return (agent.idle_since, agent.agent_id)

    match settings.strategy:
        case Strategy.LONGEST_IDLE:
            return [min(tier, key=idle)]
        case Strategy.ROUND_ROBIN:
            last = memory.last_offered.get(queue)
            after = [a for a in tier if last is None or rank(a, queue) > last]
            return [min(after or tier, key=lambda a: rank(a, queue))]
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
