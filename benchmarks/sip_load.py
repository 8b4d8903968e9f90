"""SIP load benchmark: SIPp callers and agent phones against one `callcenter serve`.

Measures (1) the sustained call rate through greeting, queue and agent with no failed
call, and (2) the most concurrent calls one process holds with media flowing, and
checks that a call beyond `sip.max_calls` gets 503 while the others go on.
Run with `make bench`; the figures go into docs/PERFORMANCE.md by hand.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from callcenter.auth.passwords import hash_password
from tests.integration.harness import SIPP_DIR, Server, caller_args, metric_value
from tests.services import free_port, free_udp_tcp_port, require_sipp

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Run:
    phase: str
    rate: float
    calls: int
    hold_seconds: float
    successful: int
    failed: int
    peak_active_calls: int
    cpu_seconds: float
    wall_seconds: float

    @property
    def cpu_ms_per_call(self) -> float:
        return 1000 * self.cpu_seconds / max(1, self.successful + self.failed)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


async def add_agents(server: Server, count: int, port: int) -> list[str]:
    """Bench agents whose phones are one SIPp UAS (each answers any number of calls)."""
    names = [f"bench{i:04d}" for i in range(count)]
    password = hash_password("bench")
    engine = create_async_engine(server.database_url)
    async with engine.begin() as conn:
        for name in names:
            await conn.execute(
                text(
                    "INSERT INTO agent (username, display_name, password_hash, role, sip_uri,"
                    " skills, created_at) VALUES (:u, :u, :p, 'agent', :uri,"
                    " '{}', CURRENT_TIMESTAMP)"
                ),
                {"u": name, "p": password, "uri": f"sip:{name}@127.0.0.1:{port}"},
            )
            await conn.execute(
                text(
                    "INSERT INTO agent_queue (agent_id, queue, level, penalty)"
                    " SELECT id, 'helpdesk', 5, 0 FROM agent WHERE username = :u"
                ),
                {"u": name},
            )
    await engine.dispose()
    return names


async def make_available(server: Server, names: list[str]) -> None:
    token = await server.login("sue", "sue-demo")
    for name in names:
        status, body = await server.request(
            "PUT", f"/api/v1/agents/{name}/state", token, {"state": "available"}
        )
        assert status == 200, body


def sipp_counts(workdir: Path, scenario: str) -> tuple[int, int]:
    screens = sorted(workdir.glob(f"{scenario}_*_screen.log"), key=lambda p: p.stat().st_mtime)
    if not screens:
        return 0, 0
    screen = screens[-1].read_text(errors="replace")
    ok = re.findall(r"Successful call\s+\|\s+\d+\s+\|\s+(\d+)", screen)
    bad = re.findall(r"Failed call\s+\|\s+\d+\s+\|\s+(\d+)", screen)
    return int(ok[-1]) if ok else 0, int(bad[-1]) if bad else 0


async def watch_active(server: Server, stop: asyncio.Event) -> int:
    peak = 0
    while not stop.is_set():
        value = metric_value(await server.metrics(), "callcenter_sip_active_calls") or 0
        peak = max(peak, int(value))
        await asyncio.sleep(0.5)
    return peak


async def load(
    server: Server, workdir: Path, phase: str, rate: float, calls: int, hold_ms: int
) -> Run:
    sipp = require_sipp()
    for old in workdir.glob("caller_*_screen.log"):
        old.unlink()
    assert server.process is not None
    cpu0, t0 = cpu_seconds(server.process.pid), time.monotonic()
    stop = asyncio.Event()
    watcher = asyncio.create_task(watch_active(server, stop))
    proc = await asyncio.create_subprocess_exec(
        sipp,
        "-sf",
        str(SIPP_DIR / "caller.xml"),
        *caller_args(server),
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
        "-timeout",
        "600s",
        cwd=workdir,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    await proc.wait()
    wall = time.monotonic() - t0
    cpu = cpu_seconds(server.process.pid) - cpu0
    stop.set()
    peak = await watcher
    ok, failed = sipp_counts(workdir, "caller")
    run = Run(phase, rate, calls, hold_ms / 1000, ok, failed, peak, round(cpu, 2), round(wall, 1))
    print(
        f"{phase:12} rate {rate:5.0f}/s calls {calls:5d} hold {hold_ms / 1000:4.0f}s:"
        f" ok {ok:5d} failed {failed:4d} peak active {peak:4d}"
        f" cpu {run.cpu_ms_per_call:6.1f} ms/call",
        flush=True,
    )
    await asyncio.sleep(3)  # let the last calls' records settle
    return run


async def main(args: argparse.Namespace) -> list[Run]:
    workdir = Path(tempfile.mkdtemp(prefix="callcenter-bench-"))
    server = Server(
        f"sqlite+aiosqlite:///{workdir / 'bench.db'}",
        workdir,
        rtp_port_range=8000,
        extra_env={
            "CALLCENTER_SIP_MAX_CALLS": str(args.max_calls),
            "CALLCENTER_LOGGING_LEVEL": "WARNING",
        },
    )
    await server.prepare()
    agent_port = free_udp_tcp_port()
    names = await add_agents(server, args.agents, agent_port)
    await server.start()
    phone = await asyncio.create_subprocess_exec(
        require_sipp(),
        "-sf",
        str(SIPP_DIR / "agent_answer.xml"),
        "-i",
        "127.0.0.1",
        "-p",
        str(agent_port),
        "-mi",
        "127.0.0.1",
        "-mp",
        str(free_port()),
        "-nostdin",
        cwd=workdir,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    runs: list[Run] = []
    try:
        await make_available(server, names)
        for rate in args.rates:
            run = await load(server, workdir, "rate", rate, int(rate * args.seconds), args.talk_ms)
            runs.append(run)
            if run.failed:
                break
        for concurrent in args.concurrency:
            run = await load(server, workdir, "concurrent", 25, concurrent, args.hold_ms)
            runs.append(run)
            if run.failed:
                break
        over = await load(server, workdir, "over-limit", 25, args.max_calls + 20, args.hold_ms)
        runs.append(over)
    finally:
        phone.kill()
        await phone.wait()
        await server.stop()
    out = Path("var/bench")
    out.mkdir(parents=True, exist_ok=True)
    report = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()} {os.cpu_count()} cores, {platform.platform()}",
        "runs": [asdict(r) | {"cpu_ms_per_call": round(r.cpu_ms_per_call, 1)} for r in runs],
    }
    (out / "sip_load.json").write_text(json.dumps(report, indent=2))
    print(f"written to {out / 'sip_load.json'}")
    return runs


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rates", type=float, nargs="+", default=[10, 20, 40, 60, 80])
    parser.add_argument("--seconds", type=float, default=20, help="traffic per rate step")
    parser.add_argument("--talk-ms", type=int, default=5000, help="caller hold after answer")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[100, 200, 300, 400, 500])
    parser.add_argument("--hold-ms", type=int, default=30000)
    parser.add_argument("--agents", type=int, default=400)
    parser.add_argument("--max-calls", type=int, default=500)
    return parser.parse_args(argv)


def run_cli(argv: list[str] | None = None) -> Any:
    return asyncio.run(main(parse(argv)))


if __name__ == "__main__":
    run_cli()
