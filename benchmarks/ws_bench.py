"""Console WebSocket fan-out: 1,000 agent consoles and 50 boards on one `callcenter serve`.

The bench agents (console-only, `sip_uri` `browser:`, all in queue `helpdesk`) and the
board accounts (supervisors) are written straight into the bench database with one
password hash; each logs in over REST and opens its socket with the token in the
Authorization header. Then the agents change state through their own `set_state`
requests (available, paused, available...) at a fixed rate, round robin. The server pushes
each change at once to that agent (`state`) and, coalesced by the hub's ticker (at most
one `agent` item per agent and one `queue` item per queue each `update_interval`, 1 s),
to every board. Latency is from the change's server time (`since`, the ACD's event time)
to the client receiving it, on the server's clock (offset measured with `ping`); an
event is lost when its agent or a board never saw that state with that `since`.
Memory per connection: the server's VmRSS after the logins and after opening the sockets.
Run with `make bench`; the figures go into docs/PERFORMANCE.md by hand.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from benchmarks.sip_load import cpu_seconds
from callcenter.auth.passwords import hash_password
from tests.integration.harness import Server

PASSWORD = "bench"
QUEUE = "helpdesk"
PAUSE_REASON = "break"
#: Logins at once: each costs the server one scrypt (about 50 ms of a core).
LOGINS_AT_ONCE = 8
CONNECTS_AT_ONCE = 50
#: The hub's ticker (`WebSocketConfig.update_interval_seconds`, not configurable).
UPDATE_INTERVAL = 1.0


def rss_kib(pid: int) -> int:
    """The process's resident set (VmRSS) in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def spread(values_s: Sequence[float], digits: int = 1) -> dict[str, float | int]:
    """p50, p99, max and mean in milliseconds, rounded to `digits` decimals."""
    if not values_s:
        return {"count": 0}
    ordered = sorted(values_s)

    def at(p: float) -> float:
        return round(1000 * ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))], digits)

    return {
        "count": len(ordered),
        "p50": at(50),
        "p99": at(99),
        "max": round(1000 * ordered[-1], digits),
        "mean": round(1000 * statistics.fmean(ordered), digits),
    }


async def add_accounts(database_url: str, agents: int, boards: int) -> tuple[list[str], list[str]]:
    """Bench agents in QUEUE and board (supervisor) accounts, all with one password hash
    (scrypt is slow on purpose: hashing a thousand times would take a minute)."""
    agent_names = [f"wsagent{i:04d}" for i in range(agents)]
    board_names = [f"wsboard{i:03d}" for i in range(boards)]
    password = hash_password(PASSWORD)
    rows = [
        {"u": name, "p": password, "role": "agent", "uri": "browser:"} for name in agent_names
    ] + [{"u": name, "p": password, "role": "supervisor", "uri": None} for name in board_names]
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO agent (username, display_name, password_hash, role, sip_uri,"
                    " skills, created_at) VALUES (:u, :u, :p, :role, :uri,"
                    " '{}', CURRENT_TIMESTAMP)"
                ),
                rows,
            )
            await conn.execute(
                text(
                    "INSERT INTO agent_queue (agent_id, queue, level, penalty)"
                    " SELECT id, :q, 5, 0 FROM agent WHERE username LIKE 'wsagent%'"
                ),
                {"q": QUEUE},
            )
    finally:
        await engine.dispose()
    return agent_names, board_names


#: What a board was shown: (agent, state, since) -> when it arrived (server clock).
Seen = dict[tuple[str, str, float], float]


@dataclass
class Event:
    """One state change an agent asked for, and what came of it."""

    agent: str
    state: str
    sent_mono: float
    replied: bool = False
    since: float | None = None  # the server's event time, from the agent's `state` push
    agent_latency: float | None = None  # since -> the push received
    request_latency: float | None = None  # request sent -> the push received


@dataclass
class Console:
    """One open socket and what it received."""

    username: str
    ws: ClientConnection
    offset: float = 0.0  # server clock minus ours
    expect: Event | None = None
    messages: int = 0
    #: Boards: (agent, state, since) -> our receive time (on the server's clock).
    seen: Seen = field(default_factory=dict)
    snapshots: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    async def read(self) -> None:
        try:
            async for raw in self.ws:
                now = time.time() + self.offset
                mono = time.monotonic()
                self.messages += 1
                self._on(json.loads(raw), now, mono)
        except ConnectionClosed:
            pass

    def _on(self, message: dict[str, Any], now: float, mono: float) -> None:
        kind = message["type"]
        if kind == "state":
            event = self.expect
            if event is not None and event.since is None and message["state"] == event.state:
                event.since = float(message["since"])
                event.agent_latency = now - event.since
                event.request_latency = mono - event.sent_mono
        elif kind == "ok":
            if self.expect is not None and message["id"] == self.expect.agent:
                self.expect.replied = True
        elif kind == "error":
            self.errors.append(message)
        elif kind == "agent":
            self.seen[(message["username"], message["state"], float(message["since"]))] = now
        elif kind == "snapshot":
            self.snapshots += 1
            for item in message["agents"]:
                key = (item["username"], item["state"], float(item["since"]))
                self.seen.setdefault(key, now)


async def clock_offset(ws: ClientConnection, samples: int = 20) -> float:
    """The server's clock minus ours, from the `ping` with the shortest round trip."""
    best: tuple[float, float] | None = None
    for n in range(samples):
        sent = time.time()
        await ws.send(json.dumps({"type": "ping", "id": f"clock-{n}"}))
        while True:
            message = json.loads(await ws.recv())
            if message["type"] == "ok" and message["id"] == f"clock-{n}":
                break
        got = time.time()
        offset = float(message["result"]["at"]) - (sent + got) / 2
        if best is None or got - sent < best[0]:
            best = (got - sent, offset)
    assert best is not None
    return best[1]


async def log_in(server: Server, names: list[str]) -> list[str]:
    """A token for each account, a few logins at a time."""
    logins = asyncio.Semaphore(LOGINS_AT_ONCE)

    async def token(name: str) -> str:
        async with logins:
            return await server.login(name, PASSWORD)

    return list(await asyncio.gather(*(token(name) for name in names)))


async def open_consoles(server: Server, tokens: list[str], path: str) -> list[ClientConnection]:
    connects = asyncio.Semaphore(CONNECTS_AT_ONCE)
    url = f"ws://127.0.0.1:{server.http_port}{path}"

    async def open_one(token: str) -> ClientConnection:
        async with connects:
            return await connect(
                url,
                additional_headers={"Authorization": f"Bearer {token}"},
                ping_interval=None,  # the server pings; the client answers on its own
                max_size=2**24,
                open_timeout=60,
            )

    return list(await asyncio.gather(*(open_one(t) for t in tokens)))


async def drive(agents: list[Console], rate: float, seconds: float) -> tuple[list[Event], float]:
    """State changes at `rate` per second for `seconds`, round robin over the agents."""
    loop = asyncio.get_running_loop()
    events: list[Event] = []
    current = dict.fromkeys((a.username for a in agents), "logged_out")
    start = loop.time()
    for n in range(int(rate * seconds)):
        console = agents[n % len(agents)]
        state = "paused" if current[console.username] == "available" else "available"
        current[console.username] = state
        event = Event(console.username, state, time.monotonic())
        console.expect = event
        events.append(event)
        request: dict[str, Any] = {"type": "set_state", "id": console.username, "state": state}
        if state == "paused":
            request["reason"] = PAUSE_REASON
        await console.ws.send(json.dumps(request))
        await asyncio.sleep(max(0.0, start + (n + 1) / rate - loop.time()))
    return events, loop.time() - start


def board_outcome(delivered: list[Event], boards: list[Seen]) -> tuple[list[float], int]:
    """Each board's latency for each change its agent saw, and how many a board missed
    (never shown that agent in that state since that moment)."""
    latency: list[float] = []
    lost = 0
    for event in delivered:
        assert event.since is not None
        for seen in boards:
            got = seen.get((event.agent, event.state, event.since))
            if got is None:
                lost += 1
            else:
                latency.append(got - event.since)
    return latency, lost


async def measure(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    server = Server(
        f"sqlite+aiosqlite:///{workdir / 'bench.db'}",
        workdir,
        extra_env={"CALLCENTER_LOGGING_LEVEL": "WARNING"},
    )
    await server.prepare()
    agent_names, board_names = await add_accounts(server.database_url, args.agents, args.boards)
    await server.start()
    assert server.process is not None
    pid = server.process.pid
    consoles: list[Console] = []
    readers: list[asyncio.Task[None]] = []
    try:
        t0 = time.monotonic()
        agent_tokens = await log_in(server, agent_names)
        board_tokens = await log_in(server, board_names)
        login_seconds = time.monotonic() - t0
        # After the logins: their scrypt buffers stay in the allocator's arenas.
        await asyncio.sleep(1)
        rss_idle = rss_kib(pid)
        t0 = time.monotonic()
        # Agents first: each console's hello marks its agent for the boards' next update.
        agent_sockets = await open_consoles(server, agent_tokens, "/ws/agent")
        connect_seconds = time.monotonic() - t0
        offset = await clock_offset(agent_sockets[0])
        # One update interval before the boards come: the agents' hellos are sent to no
        # board then, instead of 1,000 `agent` items at once to each (a snapshot reset).
        await asyncio.sleep(UPDATE_INTERVAL + 0.5)
        t0 = time.monotonic()
        board_sockets = await open_consoles(server, board_tokens, "/ws/supervisor")
        connect_seconds += time.monotonic() - t0
        agents = [Console(n, ws, offset) for n, ws in zip(agent_names, agent_sockets, strict=True)]
        boards = [Console(n, ws, offset) for n, ws in zip(board_names, board_sockets, strict=True)]
        consoles = agents + boards
        readers = [asyncio.create_task(c.read(), name=f"read-{c.username}") for c in consoles]
        await asyncio.sleep(args.settle)
        rss_open = rss_kib(pid)

        snapshots0 = sum(b.snapshots for b in boards)
        cpu0, client_cpu0, wall0 = cpu_seconds(pid), time.process_time(), time.monotonic()
        events, driven = await drive(agents, args.rate, args.seconds)
        await asyncio.sleep(args.drain)
        wall = time.monotonic() - wall0
        server_cpu = cpu_seconds(pid) - cpu0
        client_cpu = time.process_time() - client_cpu0
        rss_end = rss_kib(pid)
    finally:
        await asyncio.gather(*(c.ws.close() for c in consoles), return_exceptions=True)
        for task in readers:
            task.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        await server.stop()

    delivered = [e for e in events if e.since is not None]
    board_latency, board_lost = board_outcome(delivered, [b.seen for b in boards])
    connections = len(agents) + len(boards)
    return {
        "agents": len(agents),
        "boards": len(boards),
        "rate_per_second": args.rate,
        "seconds": args.seconds,
        "events": len(events),
        "achieved_rate_per_second": round(len(events) / driven, 1),
        "replies_ok": sum(e.replied for e in events),
        "errors": [m for c in consoles for m in c.errors][:10],
        "agent_delivered": len(delivered),
        "agent_lost": len(events) - len(delivered),
        "agent_latency_ms": spread(
            [e.agent_latency for e in delivered if e.agent_latency is not None]
        ),
        "request_to_push_ms": spread(
            [e.request_latency for e in delivered if e.request_latency is not None]
        ),
        "board_deliveries": len(board_latency),
        "board_lost": board_lost,
        "board_latency_ms": spread(board_latency),
        "board_snapshot_resets": sum(b.snapshots for b in boards) - snapshots0,
        "board_messages": sum(b.messages for b in boards),
        "clock_offset_ms": round(1000 * offset, 2),
        "login_seconds": round(login_seconds, 1),
        "connect_seconds": round(connect_seconds, 1),
        "server_rss_mib": {
            "idle": round(rss_idle / 1024, 1),
            "connections_open": round(rss_open / 1024, 1),
            "after_events": round(rss_end / 1024, 1),
        },
        "kib_per_connection": round((rss_open - rss_idle) / connections, 1),
        "server_cpu_percent": round(100 * server_cpu / wall, 1),
        "client_cpu_percent": round(100 * client_cpu / wall, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


async def main(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="callcenter-ws-bench-") as tmp:
        result = await measure(args, Path(tmp))
    report = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()} {os.cpu_count()} cores, {platform.platform()}",
        **result,
    }
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    return report


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--boards", type=int, default=50)
    parser.add_argument("--rate", type=float, default=50, help="state changes per second")
    parser.add_argument("--seconds", type=float, default=60, help="how long the changes go on")
    parser.add_argument("--settle", type=float, default=3, help="after opening the sockets")
    parser.add_argument("--drain", type=float, default=3, help="after the last change")
    parser.add_argument("--out", type=Path, default=Path("var/bench/ws_bench.json"))
    return parser.parse_args(argv)


def run_cli(argv: list[str] | None = None) -> dict[str, Any]:
    return asyncio.run(main(parse(argv)))


if __name__ == "__main__":
    run_cli()
