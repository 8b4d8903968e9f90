"""Cluster benchmark: SIPp callers through Kamailio to 1, 2 and 4 `callcenter serve` nodes.

For each node count it starts the local cluster of `make cluster` (`scripts/cluster.py
start`: Kamailio and the nodes on loopback, one Redis, one new PostgreSQL database),
registers bench agents whose phones are one SIPp UAS, and measures (1) the call rate
sustained with no failed call, stepping the rate up until a step fails, and (2) the
concurrent calls held with media both ways, stepping the count up the same way. Every
step records each node's CPU (user + system, from /proc) and Kamailio's.
Run with `make bench`; the figures go into docs/PERFORMANCE.md by hand.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import redis.asyncio as aioredis
import yaml

from benchmarks.sip_load import add_agents, cpu_seconds, make_available, sipp_counts
from tests.integration.harness import ROOT, SIPP_DIR, Server, caller_args, metric_value
from tests.services import (
    free_port,
    free_udp_tcp_port,
    fresh_postgres_database,
    require_redis,
    require_sipp,
)

SCRIPT = ROOT / "scripts" / "cluster.py"
#: RTP ports of the nodes: below the ephemeral ports, in the slots of the test worker
#: this run is given (tests/integration/harness.py), split among the nodes.
RTP_SPANS = ((18_000, 2_000), (28_000, 2_000))


@dataclass
class Step:
    nodes: int
    phase: str
    rate: float
    calls: int
    hold_seconds: float
    successful: int
    failed: int
    peak_active_calls: int
    wall_seconds: float
    cpu_percent: dict[str, float] = field(default_factory=dict)
    #: The machine's 1-minute load average at the end: other work on the box shows here.
    load_average: float = 0.0
    #: Nodes whose process was gone at the end of the step (a crash: see its log).
    died: list[str] = field(default_factory=list)

    @property
    def calls_per_second(self) -> float:
        return self.successful / self.wall_seconds if self.wall_seconds else 0.0


def rtp_ranges(nodes: int) -> list[tuple[int, int]]:
    """`nodes` disjoint RTP ranges out of RTP_SPANS (1, 2 or 4 nodes)."""
    per_span = max(1, nodes // len(RTP_SPANS))
    ranges = []
    for start, size in RTP_SPANS:
        width = size // per_span
        ranges += [(start + i * width, width) for i in range(per_span)]
    return ranges[:nodes]


def process_cpu(pid: int) -> float:
    """CPU seconds of `pid` and its children (Kamailio works in forked children)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(stat.parent.name) == pid or int(fields[1]) == pid:
            total += cpu_seconds(int(stat.parent.name))
    return total


class BenchCluster:
    """A local cluster of `nodes` nodes in `workdir`, started and stopped by the script."""

    def __init__(self, nodes: int, workdir: Path, database_url: str, redis_url: str) -> None:
        self.count, self.workdir = nodes, workdir
        self.directory = workdir / "cluster"
        self.first = Server(database_url, workdir)
        self.redis_url, self.prefix = redis_url, f"bench:cluster:{uuid.uuid4().hex[:8]}"
        self.kamailio_port = free_udp_tcp_port()
        self.nodes: dict[str, Server] = {}
        self.max_calls = 0
        for index, (rtp_port, rtp_range) in enumerate(rtp_ranges(nodes)):
            node = Server(database_url, workdir, rtp_port_range=rtp_range)
            node._rtp_port = rtp_port
            self.nodes[f"node{index + 1}"] = node

    def script(self, *args: str, env: dict[str, str]) -> None:
        common = ["--cluster", str(self.workdir / "cluster.yaml"), "--dir", str(self.directory)]
        done = subprocess.run(
            [sys.executable, str(SCRIPT), *common, *args],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0:
            raise RuntimeError(f"cluster.py {args[0]} failed:\n{done.stdout}{done.stderr}")

    def env(self, max_calls: int) -> dict[str, str]:
        env = self.first.env()
        env.update(
            CALLCENTER_REDIS_URL=self.redis_url,
            CALLCENTER_REDIS_KEY_PREFIX=self.prefix,
            CALLCENTER_SIP_MAX_CALLS=str(max_calls),
            CALLCENTER_LOGGING_LEVEL="WARNING",
        )
        return env

    async def start(self, max_calls: int) -> None:
        self.max_calls = max_calls
        description = {
            "kamailio": {
                "sip_port": self.kamailio_port,
                "probe_interval_seconds": 2,
                "algorithm": "round_robin",
            },
            "nodes": [
                {
                    "name": name,
                    "sip_port": node.sip_port,
                    "http_port": node.http_port,
                    "rtp_port": node.rtp_port,
                    "rtp_port_range": node.rtp_port_range,
                }
                for name, node in self.nodes.items()
            ],
        }
        (self.workdir / "cluster.yaml").write_text(yaml.safe_dump(description))
        self.script("start", "--nodes", str(self.count), env=self.env(max_calls))

    async def stop(self) -> None:
        self.script("stop", env=self.first.env())
        client = aioredis.from_url(self.redis_url)
        keys = [k async for k in client.scan_iter(f"{self.prefix}:*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()

    def pids(self) -> dict[str, int]:
        return {p.stem: int(p.read_text()) for p in sorted(self.directory.glob("*.pid"))}

    async def active_calls(self) -> int:
        total = 0
        for node in self.nodes.values():
            try:
                value = metric_value(await node.metrics(), "callcenter_sip_active_calls")
            except aiohttp.ClientError:  # a node that died counts nothing
                continue
            total += int(value or 0)
        return total

    def dead(self) -> list[str]:
        dead = []
        for name, pid in self.pids().items():
            try:
                os.kill(pid, 0)
                stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                if stat[0] == "Z":
                    dead.append(name)
            except (ProcessLookupError, FileNotFoundError):
                dead.append(name)
        return dead

    async def revive(self) -> None:
        """Start the nodes that died again (`scripts/cluster.py start-node`) and give
        Kamailio's probes the time to see them."""
        dead = self.dead()
        for name in dead:
            self.script(
                "start-node", name, "--nodes", str(self.count), env=self.env(self.max_calls)
            )
        if dead:
            await asyncio.sleep(6)


async def watch_active(cluster: BenchCluster, stop: asyncio.Event) -> int:
    peak = 0
    while not stop.is_set():
        peak = max(peak, await cluster.active_calls())
        await asyncio.sleep(0.5)
    return peak


async def load(cluster: BenchCluster, phase: str, rate: float, calls: int, hold_ms: int) -> Step:
    workdir = cluster.workdir
    for old in workdir.glob("caller_via_proxy_*_screen.log"):
        old.unlink()
    pids = cluster.pids()
    cpu0, t0 = {n: process_cpu(p) for n, p in pids.items()}, time.monotonic()
    stop = asyncio.Event()
    watcher = asyncio.create_task(watch_active(cluster, stop))
    proc = await asyncio.create_subprocess_exec(
        require_sipp(),
        "-sf",
        str(SIPP_DIR / "caller_via_proxy.xml"),
        *caller_args(cluster.kamailio_port),
        "-r",
        str(rate),
        "-m",
        str(calls),
        "-l",
        str(calls),
        "-d",
        str(hold_ms),
        "-nostdin",
        "-trace_screen",
        # A call whose answer or BYE reply never comes fails after 30 s, not at the end.
        "-recv_timeout",
        "30s",
        "-timeout",
        f"{int(calls / rate + hold_ms / 1000 + 90)}s",
        cwd=workdir,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    await proc.wait()
    wall = time.monotonic() - t0
    cpu = {n: 100 * (process_cpu(p) - cpu0[n]) / wall for n, p in pids.items()}
    stop.set()
    peak = await watcher
    ok, failed = sipp_counts(workdir, "caller_via_proxy")
    step = Step(
        cluster.count,
        phase,
        rate,
        calls,
        hold_ms / 1000,
        ok,
        failed,
        peak,
        round(wall, 1),
        {n: round(v, 1) for n, v in cpu.items()},
        round(os.getloadavg()[0], 2),
        cluster.dead(),
    )
    shares = " ".join(f"{n} {v:.0f}%" for n, v in step.cpu_percent.items())
    print(
        f"{cluster.count} node(s) {phase:10} rate {rate:4.0f}/s calls {calls:5d}:"
        f" ok {ok:5d} failed {failed:4d} peak active {peak:4d} cpu {shares}"
        f" load {step.load_average:.1f}{' DIED ' + ','.join(step.died) if step.died else ''}",
        flush=True,
    )
    await asyncio.sleep(4)  # the last calls end and their records settle
    return step


async def passed(
    steps: list[Step], cluster: BenchCluster, phase: str, rate: float, calls: int, hold_ms: int
) -> bool:
    """One step with no failed call; a failed step is run once more, since the box is
    shared with other work (both runs are kept)."""
    for _ in range(2):
        step = await load(cluster, phase, rate, calls, hold_ms)
        steps.append(step)
        if step.died:
            await cluster.revive()
            return False
        if not step.failed:
            return True
    return False


async def bench_nodes(count: int, args: argparse.Namespace) -> list[Step]:
    workdir = Path(tempfile.mkdtemp(prefix=f"callcenter-cluster-bench-{count}-"))
    steps: list[Step] = []
    async with fresh_postgres_database() as database_url:
        cluster = BenchCluster(count, workdir, database_url, require_redis())
        await cluster.first.prepare()
        agent_port = free_udp_tcp_port()
        names = await add_agents(cluster.first, args.agents, agent_port)
        per_node = min(500, min(n.rtp_port_range for n in cluster.nodes.values()) // 4 - 10)
        await cluster.start(per_node)
        phone = await asyncio.create_subprocess_exec(
            require_sipp(),
            "-sf",
            str(SIPP_DIR / "agent_answer.xml"),
            *("-i", "127.0.0.1", "-p", str(agent_port), "-mi", "127.0.0.1"),
            *("-mp", str(free_port()), "-nostdin"),
            cwd=workdir,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            await make_available(next(iter(cluster.nodes.values())), names)
            for rate in args.rates:
                calls = int(rate * args.seconds)
                if not await passed(steps, cluster, "rate", rate, calls, args.talk_ms):
                    break
            for concurrent in args.concurrency:
                if concurrent > per_node * count:
                    break
                held = (cluster, "concurrent", args.ramp, concurrent, args.hold_ms)
                if not await passed(steps, *held):
                    break
        finally:
            phone.kill()
            await phone.wait()
            await cluster.stop()
    return steps


async def main(args: argparse.Namespace) -> list[Step]:
    steps: list[Step] = []
    for count in args.nodes:
        steps += await bench_nodes(count, args)
    out = Path("var/bench")
    out.mkdir(parents=True, exist_ok=True)
    load_average = os.getloadavg()
    report: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()} {os.cpu_count()} cores, {platform.platform()}",
        "load_average_at_end": [round(v, 2) for v in load_average],
        "steps": [asdict(s) | {"calls_per_second": round(s.calls_per_second, 1)} for s in steps],
    }
    (out / "cluster_bench.json").write_text(json.dumps(report, indent=2))
    print(f"written to {out / 'cluster_bench.json'}")
    return steps


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", type=int, nargs="+", default=[1, 2, 4], choices=[1, 2, 4])
    parser.add_argument("--rates", type=float, nargs="+", default=[10, 15, 20, 30, 40, 60])
    parser.add_argument("--seconds", type=float, default=15, help="traffic per rate step")
    parser.add_argument("--talk-ms", type=int, default=2000, help="caller hold after answer")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[100, 200, 300, 400])
    parser.add_argument("--ramp", type=float, default=25, help="calls/s while filling up")
    parser.add_argument("--hold-ms", type=int, default=20000)
    parser.add_argument("--agents", type=int, default=450)
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse()))
