"""How long one Prometheus scrape of /metrics takes with a large desk.

50 queues, 1,000 agents (each in 1-3 queues) and a day of history (answered and
abandoned calls spread over 24 h) in the real ACD; the scrape is `generate_latest` on
the registry the server builds, timed over repeated scrapes.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from pathlib import Path

from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector
from prometheus_client.exposition import generate_latest

from callcenter.acd.acd import Acd
from callcenter.acd.events import AcdEvent
from callcenter.acd.model import AgentState, QueueSettings
from callcenter.clock import ManualClock
from callcenter.events import EventBus
from callcenter.ivr.events import IvrFinished
from callcenter.ivr.flowfile import load_flows
from callcenter.metrics.acd_metrics import AcdMetrics
from callcenter.metrics.bridge_metrics import BridgeMetrics
from callcenter.metrics.ivr_metrics import IvrMetrics

ROOT = Path(__file__).resolve().parents[1]


def build(queues: int, agents: int, calls: int, seed: int) -> tuple[CollectorRegistry, int]:
    rnd = random.Random(seed)
    clock = ManualClock(1_764_000_000.0)
    bus = EventBus()
    names = [f"q{n:02d}" for n in range(queues)]
    acd = Acd([QueueSettings(name) for name in names], clock, bus.publish)
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    bus.subscribe(AcdEvent, AcdMetrics(registry, acd, clock).on_event)
    BridgeMetrics(registry)
    # The production flows' office hours, with their holiday calendar.
    flows = load_flows(ROOT / "config" / "ivr.production.yaml")
    hours = {flow.name: flow.hours for flow in flows.flows.values()}
    bus.subscribe(IvrFinished, IvrMetrics(registry, hours, clock).on_event)
    for n in range(agents):
        acd.add_agent(f"a{n:04d}", rnd.sample(names, rnd.randint(1, 3)))
    # A day of traffic: each call waits, is answered by whoever is free, and ends.
    step = 86_400 / calls
    for n in range(calls):
        agent = f"a{rnd.randrange(agents):04d}"
        queue = rnd.choice(list(acd.agent(agent).queues))
        acd.set_agent_state(agent, AgentState.AVAILABLE)
        acd.enqueue(f"c{n}", queue, "+8620")
        clock.advance(step / 2)
        if rnd.random() < 0.9 and acd.call(f"c{n}").agent_id is not None:
            acd.answered(f"c{n}")
            clock.advance(step / 2)
        acd.hangup(f"c{n}")
        acd.set_agent_state(agent, AgentState.LOGGED_OUT)
    for n in range(agents):
        state = (AgentState.AVAILABLE, AgentState.PAUSED, AgentState.LOGGED_OUT)[n % 3]
        acd.set_agent_state(f"a{n:04d}", state, "break" if state is AgentState.PAUSED else None)
    return registry, len(generate_latest(registry))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--queues", type=int, default=50)
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--calls", type=int, default=20_000, help="calls in the day of history")
    parser.add_argument("--scrapes", type=int, default=50)
    args = parser.parse_args()
    started = time.perf_counter()
    registry, size = build(args.queues, args.agents, args.calls, seed=1)
    print(f"desk built in {time.perf_counter() - started:.1f} s; exposition {size / 1024:.0f} KiB")
    times = []
    for _ in range(args.scrapes):
        t0 = time.perf_counter()
        generate_latest(registry)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    print(
        f"{args.queues} queues, {args.agents} agents, {args.calls} calls of history:"
        f" scrape p50 {statistics.median(times):.1f} ms, p99 {p99:.1f} ms, max {times[-1]:.1f} ms"
    )


if __name__ == "__main__":
    main()
