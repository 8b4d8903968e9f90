"""Routing decisions through the shared ACD (Redis Stream log), with 1 and 4 processes.

The desk is acd_bench's reference: 1,000 agents, 20 queues, 10,000 waiting calls. It is
seeded into a fresh key prefix of a real Redis; then each process loads it and runs
decisions for a fixed time, `--sessions` at once (callers arrive concurrently):

- call: a call arrives in a queue with idle agents; the decision is done when this
  process's copy has applied the enqueue and the call is offered;
- agent: a talking agent's call ends; done when the freed agent is offered the best
  waiting call.

Each decision also writes the bookkeeping that keeps the desk steady (answering the
offer, ending the idle side's call, refilling the backlog), so a decision costs about
three log entries, and every process applies every process's entries. Timed: from
submit to the copy having applied it (Redis round trip, waiting for the log, applying).

    python -m benchmarks.acd_redis_bench                 # 1 and 4 processes, 20 s each
    python -m benchmarks.acd_redis_bench --seconds 5     # shorter
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import random
import subprocess
import sys
import time
import uuid

import redis

from benchmarks.acd_bench import BACKLOG, IDLE, QUEUES, STRATEGIES, build, no_op
from callcenter.acd import commands as c
from callcenter.acd.acd import Acd
from callcenter.acd.model import CallPhase, QueueSettings
from callcenter.acd_store.redis_log import LogClock, RedisAcdStore
from callcenter.acd_store.store import fire
from callcenter.clock import SystemClock

URL = os.environ.get("CALLCENTER_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


def new_acd(clock: LogClock) -> Acd:
    settings = [
        QueueSettings(q, strategy=STRATEGIES[n % len(STRATEGIES)]) for n, q in enumerate(QUEUES)
    ]
    return Acd(settings, clock, no_op, rng=random.Random(0))


async def seed(prefix: str) -> None:
    desk = build(1_000, 10_000)
    clock = LogClock(SystemClock())
    acd = new_acd(clock)
    acd.restore_state(desk.acd.export_state())
    store = RedisAcdStore(acd, clock, URL, prefix=prefix, snapshot_seconds=3600)
    await store.start()
    assert await store.seed(), "prefix not empty"
    await store.close()


async def worker(prefix: str, index: int, processes: int, seconds: float, sessions: int) -> None:
    clock = LogClock(SystemClock())
    acd = new_acd(clock)
    # A long lease: processes that finish first must not be taken for lost by the rest.
    store = RedisAcdStore(acd, clock, URL, prefix=prefix, snapshot_seconds=3600, lease_seconds=120)
    await store.start()
    rnd = random.Random(index)
    talking = sorted(
        a.call_id
        for a in acd.agents
        if a.call_id is not None and int(a.agent_id[1:]) % processes == index
    )
    serial = 0
    latencies: dict[str, list[float]] = {"call": [], "agent": []}
    done = asyncio.Event()

    async def call_decision() -> None:
        nonlocal serial
        serial += 1
        call_id = f"p{index}-{serial}"
        start = time.perf_counter()
        await store.submit(c.Enqueue(call_id, rnd.choice(IDLE), "+4960"))
        latencies["call"].append(time.perf_counter() - start)
        if acd.has_call(call_id) and acd.call(call_id).phase is CallPhase.OFFERED:
            fire(store, c.Answered(call_id))
        fire(store, c.Hangup(call_id))

    async def agent_decision() -> None:
        nonlocal serial
        if not talking:
            await call_decision()
            return
        call_id = talking.pop(rnd.randrange(len(talking)))
        agent_id = acd.call(call_id).agent_id if acd.has_call(call_id) else None
        start = time.perf_counter()
        await store.submit(c.Hangup(call_id))
        latencies["agent"].append(time.perf_counter() - start)
        if agent_id is not None:
            agent = acd.agent(agent_id)
            if agent.call_id is not None:
                next_call = agent.call_id
                await store.submit(c.Answered(next_call, agent_id))
                talking.append(next_call)
        serial += 1
        fire(store, c.Enqueue(f"p{index}-b{serial}", rnd.choice(BACKLOG), "+4950"))

    async def session() -> None:
        while not done.is_set():
            try:
                await (call_decision() if rnd.random() < 0.5 else agent_decision())
            except Exception:  # a refusal (a race between processes) is not a decision
                continue

    loop = asyncio.get_running_loop()
    loop.call_later(seconds, done.set)
    began = time.perf_counter()
    await asyncio.gather(*(session() for _ in range(sessions)))
    wall = time.perf_counter() - began
    applied = store.applied
    await store.close()
    print(json.dumps({"latencies": latencies, "wall": wall, "applied": applied}))


def run(processes: int, seconds: float, sessions: int) -> dict[str, float]:
    prefix = f"bench:acd:{uuid.uuid4().hex[:8]}"
    asyncio.run(seed(prefix))
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "benchmarks.acd_redis_bench",
                "--worker",
                prefix,
                str(i),
                str(processes),
                str(seconds),
                str(sessions),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(processes)
    ]
    results = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
    client = redis.from_url(URL)
    entries = client.xlen(f"{prefix}:log")
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    client.close()
    times = sorted(t for r in results for kind in ("call", "agent") for t in r["latencies"][kind])
    wall = max(r["wall"] for r in results)
    return {
        "decisions": len(times),
        "per_second": len(times) / wall,
        "p50_ms": times[len(times) // 2] * 1000,
        "p99_ms": times[int(len(times) * 0.99)] * 1000,
        "entries_per_second": entries / wall,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--sessions", type=int, default=16, help="concurrent decisions per process")
    parser.add_argument("--worker", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        logging.basicConfig(level=logging.ERROR)  # refusals of lost races are expected
        prefix, index, processes, seconds, sessions = args.worker
        asyncio.run(worker(prefix, int(index), int(processes), float(seconds), int(sessions)))
        return
    print(
        f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, Redis {URL}, "
        f"{args.seconds:.0f} s per run, {args.sessions} concurrent decisions per process"
    )
    print("\n1,000 agents, 20 queues, 10,000 waiting calls, shared through Redis\n")
    print("| processes | decisions | decisions/s | p50 ms | p99 ms | log entries/s |")
    print("|---:|---:|---:|---:|---:|---:|")
    for processes in (1, 4):
        r = run(processes, args.seconds, args.sessions)
        print(
            f"| {processes} | {r['decisions']:,} | {r['per_second']:,.0f} | {r['p50_ms']:.2f} "
            f"| {r['p99_ms']:.2f} | {r['entries_per_second']:,.0f} |"
        )
        sys.stdout.flush()


if __name__ == "__main__":
    main()
