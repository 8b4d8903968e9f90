"""Routing decisions of the in-process ACD core: how many per second, and how long each takes.

A "decision" is one public operation that ends in an offer:

- agent: a connected call hangs up, its agent is free again and gets the best waiting call
  of its queues (the backlog side: thousands of calls wait);
- call: a call arrives in a queue with idle agents and is offered to one of them.

The desk: 20 queues, each agent in 1-3 of them. Queues q00-q09 have a backlog (all their
agents talk, `waiting` calls wait); queues q10-q19 have idle agents and no one waiting, so
an arriving call there is routed at once. Half the agents serve each side. The six
deterministic strategies are spread over the queues. The starting state is loaded with
`restore_state` (building a 50,000-call backlog through `enqueue` would measure the set-up).

Only the decision is timed (`time.perf_counter_ns`); the bookkeeping that keeps the desk
in its steady state (answering the offer, refilling the backlog, ending the idle side's
call) runs between timings. ManualClock, a no-op publish, a fixed seed.

    python -m benchmarks.acd_bench            # the reference case and both scaling tables
    python -m benchmarks.acd_bench --quick    # fewer operations, for a smoke run
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import sys
import time
from dataclasses import dataclass

from callcenter.acd import events as ev
from callcenter.acd.acd import Acd
from callcenter.acd.model import (
    AcdCall,
    Agent,
    AgentState,
    CallPhase,
    Membership,
    QueueSettings,
    Strategy,
)
from callcenter.acd.persistence import agent_to_dict, call_to_dict
from callcenter.clock import ManualClock

QUEUES = [f"q{n:02d}" for n in range(20)]
BACKLOG, IDLE = QUEUES[:10], QUEUES[10:]
STRATEGIES = [
    Strategy.LONGEST_IDLE,
    Strategy.FEWEST_CALLS,
    Strategy.ROUND_ROBIN,
    Strategy.SKILLS_BASED,
    Strategy.LEAST_TALK_TIME,
    Strategy.LINEAR,
]
START = 1_764_000_000.0
SEED = 20261127
#: The manual clock moves this much per decision: about the pace of a 1,000-agent desk
#: (5-minute calls), so the last hour's statistics the wait estimate reads are realistic.
STEP_SECONDS = 0.3


def no_op(event: ev.AcdEvent) -> None:
    """Subscribers are not what is measured."""


@dataclass
class Desk:
    acd: Acd
    clock: ManualClock
    rnd: random.Random
    talking: list[str]  # connected calls on the backlog side
    serial: int = 0

    def next_id(self) -> str:
        self.serial += 1
        return f"n{self.serial}"


def build(agents: int, waiting: int, seed: int = SEED) -> Desk:
    rnd = random.Random(seed)
    clock = ManualClock(START)
    settings = [
        QueueSettings(q, strategy=STRATEGIES[n % len(STRATEGIES)]) for n, q in enumerate(QUEUES)
    ]
    acd = Acd(settings, clock, no_op, rng=random.Random(seed))
    agent_list: list[Agent] = []
    calls: list[AcdCall] = []
    arrival = 0
    for n in range(agents):
        side = BACKLOG if n < agents // 2 else IDLE
        queues = rnd.sample(side, rnd.randint(1, 3))
        memberships = {q: Membership(level=rnd.randint(1, 10)) for q in queues}
        agent = Agent(f"a{n}", memberships, seq=n, idle_since=START - rnd.uniform(0, 300))
        if side is BACKLOG:
            arrival += 1
            call = AcdCall(
                f"t{n}",
                rnd.choice(queues),
                f"+4930{n}",
                0,
                enqueued_at=START - 900,
                arrival=arrival,
                phase=CallPhase.CONNECTED,
                agent_id=agent.agent_id,
                offered_at=START - 600,
                answered_at=START - rnd.uniform(0, 600),
            )
            calls.append(call)
            agent.state, agent.call_id, agent.state_since = (
                AgentState.ON_CALL,
                call.call_id,
                call.answered_at or START,
            )
        else:
            agent.state = AgentState.AVAILABLE
        agent_list.append(agent)
    talking = [c.call_id for c in calls]
    backlog_since = sorted(START - rnd.uniform(0, 600) for _ in range(waiting))
    for n, since in enumerate(backlog_since):
        arrival += 1
        calls.append(
            AcdCall(
                f"w{n}",
                rnd.choice(BACKLOG),
                f"+4940{n}",
                rnd.choice([0, 0, 0, 0, 1]),
                enqueued_at=since,
                arrival=arrival,
            )
        )
    acd.restore_state(
        {
            "version": 1,
            "arrivals": arrival,
            "agents": [agent_to_dict(a) for a in agent_list],
            "calls": [call_to_dict(c) for c in calls],
            "wrap_up": {},
            "last_offered": {},
            "left": [],
            "statistics": {},
            "activity": {},
        }
    )
    acd.tick()  # routes nothing: the restored desk is already settled
    return Desk(acd, clock, rnd, talking)


def agent_decision(desk: Desk) -> int:
    """Time one hang-up on the backlog side (the freed agent gets the next call)."""
    acd, rnd = desk.acd, desk.rnd
    index = rnd.randrange(len(desk.talking))
    call_id = desk.talking[index]
    agent_id = acd.call(call_id).agent_id
    assert agent_id is not None
    start = time.perf_counter_ns()
    acd.hangup(call_id)
    elapsed = time.perf_counter_ns() - start
    agent = acd.agent(agent_id)
    assert agent.state is AgentState.OFFERED and agent.call_id is not None, "no decision"
    acd.answered(agent.call_id)
    desk.talking[index] = agent.call_id
    acd.enqueue(desk.next_id(), rnd.choice(BACKLOG), "+4950", rnd.choice([0, 0, 0, 0, 1]))
    return elapsed


def call_decision(desk: Desk) -> int:
    """Time one arrival on the idle side (the call is offered to an idle agent)."""
    acd = desk.acd
    call_id = desk.next_id()
    queue = desk.rnd.choice(IDLE)
    start = time.perf_counter_ns()
    acd.enqueue(call_id, queue, "+4960")
    elapsed = time.perf_counter_ns() - start
    assert acd.call(call_id).phase is CallPhase.OFFERED, "no decision"
    acd.answered(call_id)
    acd.hangup(call_id)
    return elapsed


@dataclass
class Result:
    agents: int
    waiting: int
    agent_ns: list[int]
    call_ns: list[int]

    @property
    def mixed_ns(self) -> list[int]:
        return self.agent_ns + self.call_ns


def run(agents: int, waiting: int, operations: int, budget_s: float) -> Result:
    """Alternate the two kinds of decision, `operations` in all or until `budget_s` of
    timed work (at least 5 of each kind)."""
    desk = build(agents, waiting)
    agent_ns: list[int] = []
    call_ns: list[int] = []
    spent = 0
    while len(agent_ns) + len(call_ns) < operations:
        for kind, out in ((agent_decision, agent_ns), (call_decision, call_ns)):
            desk.clock.advance(STEP_SECONDS)
            out.append(kind(desk))
            spent += out[-1]
        if spent > budget_s * 1e9 and len(call_ns) >= 5:
            break
    return Result(agents, waiting, agent_ns, call_ns)


def percentile(values: list[int], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] / 1000  # µs


def rate(values: list[int]) -> float:
    return len(values) / (sum(values) / 1e9)


def row(label: str, values: list[int]) -> str:
    return (
        f"| {label} | {len(values):,} | {rate(values):,.0f} | {percentile(values, 50):,.1f} "
        f"| {percentile(values, 99):,.1f} | {statistics.fmean(values) / 1000:,.1f} |"
    )


HEADER = (
    "| {} | decisions timed | decisions/s | p50 µs | p99 µs | mean µs |\n"
    "|---|---:|---:|---:|---:|---:|"
)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a short run")
    args = parser.parse_args(argv)
    operations, budget = (2_000, 2.0) if args.quick else (20_000, 20.0)
    print(
        f"Python {platform.python_version()} on {platform.machine()}, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, seed {SEED}"
        + (", quick" if args.quick else "")
    )
    reference = run(1_000, 10_000, operations, budget)
    print("\nReference: 1,000 agents, 20 queues, 10,000 waiting calls\n")
    print(HEADER.format("decision"))
    print(row("agent freed, takes the best waiting call", reference.agent_ns))
    print(row("call arrives, offered to an idle agent", reference.call_ns))
    print(row("mix (1:1)", reference.mixed_ns))
    small = max(operations // 4, 200)
    print("\nScaling with agents (10,000 waiting calls), mix 1:1\n")
    print(HEADER.format("agents"))
    for agents in (100, 1_000, 5_000):
        result = reference if agents == 1_000 else run(agents, 10_000, small, budget / 4)
        print(row(f"{agents:,}", result.mixed_ns))
        sys.stdout.flush()
    print("\nScaling with waiting calls (1,000 agents), mix 1:1\n")
    print(HEADER.format("waiting calls"))
    for waiting in (1_000, 10_000, 50_000):
        result = reference if waiting == 10_000 else run(1_000, waiting, small, budget / 4)
        print(row(f"{waiting:,}", result.mixed_ns))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
