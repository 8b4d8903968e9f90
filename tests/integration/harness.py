"""A real `callcenter serve` on free ports, and SIPp phones around it, for integration tests."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.services import (
    free_media_ports,
    free_port,
    free_udp_tcp_port,
    require_pjsua2,
    require_sipp,
)

ROOT = Path(__file__).resolve().parents[2]
SIPP_DIR = ROOT / "tests" / "sipp"
PROMPTS = ROOT / "var" / "prompts"

#: Servers' RTP port ranges lie below the kernel's ephemeral ports (32768 and up), where
#: SIPp's media ports and every other `free_port()` come from, and apart from each other.
#: Each pytest-xdist worker takes its own share of the slots.
RTP_BASE, RTP_SLOTS = 10_000, 10
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
_WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
_rtp_slots = (
    itertools.count(_WORKER, _WORKERS)
    if _WORKERS > 1
    else itertools.count(random.randrange(RTP_SLOTS))
)
#: SIPp processes of the running test, stopped after it even when it failed half-way.
RUNNING: list[Sipp] = []
DEMO_NUMBER = "+862088881001"


@dataclass
class Server:
    """One call-center process; `agents` maps demo agent usernames to their SIPp ports."""

    database_url: str
    workdir: Path
    sip_port: int = field(default_factory=free_udp_tcp_port)
    http_port: int = field(default_factory=free_port)
    agents: dict[str, int] = field(default_factory=dict)
    rtp_port_range: int = 2000
    ivr_file: Path = ROOT / "tests" / "e2e" / "ivr-straight.yaml"
    extra_env: dict[str, str] = field(default_factory=dict)
    #: Options after `callcenter serve`.
    serve_args: tuple[str, ...] = ()
    process: subprocess.Popen[bytes] | None = None
    _log_file: Any = None

    @property
    def rtp_port(self) -> int:
        """The first RTP port, chosen once so that the whole range fits below 65536."""
        if not hasattr(self, "_rtp_port"):
            slot = next(_rtp_slots) % RTP_SLOTS
            self._rtp_port = RTP_BASE + slot * self.rtp_port_range
        return self._rtp_port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CALLCENTER_")}
        env.update(
            CALLCENTER_CONFIG=str(ROOT / "config" / "callcenter.yaml"),
            CALLCENTER_DATABASE_URL=self.database_url,
            CALLCENTER_SIP_PORT=str(self.sip_port),
            CALLCENTER_SIP_RTP_PORT=str(self.rtp_port),
            CALLCENTER_SIP_RTP_PORT_RANGE=str(self.rtp_port_range),
            CALLCENTER_HTTP_PORT=str(self.http_port),
            CALLCENTER_PROMPTS_DIRECTORY=str(PROMPTS),
            CALLCENTER_PROMPTS_CATALOGUE=str(ROOT / "config" / "prompts.yaml"),
            CALLCENTER_IVR_FILE=str(self.ivr_file),
            CALLCENTER_AUTH_TOKEN_SECRET="integration-test-secret-0123456789abcdef",
            CALLCENTER_LOGGING_LEVEL="DEBUG",
        )
        env.update(self.extra_env)
        return env

    def cli(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "callcenter", *args],
            env=self.env(),
            cwd=self.workdir,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )

    async def prepare(self) -> None:
        """Migrate, load the demo data and point the demo agents at our SIPp phones."""
        for args in (("db", "upgrade"), ("demo", "load"), ("prompts", "build")):
            done = self.cli(*args)
            assert done.returncode == 0, done.stderr
        for username in ("alice", "bob"):
            port = self.agents.setdefault(username, free_udp_tcp_port())
            await self.set_agent_uri(username, f"sip:{username}@127.0.0.1:{port}")

    async def set_agent_uri(self, username: str, uri: str) -> None:
        """Point the agent's phone at `uri` (read by `serve` when it starts)."""
        engine = create_async_engine(self.database_url)
        try:
            async with engine.begin() as conn:
                await conn.execute(
                    text("UPDATE agent SET sip_uri = :uri WHERE username = :u"),
                    {"uri": uri, "u": username},
                )
        finally:
            await engine.dispose()

    async def start(self) -> None:
        require_pjsua2()
        self._log_file = (self.workdir / "server.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "callcenter", "serve", *self.serve_args],
            env=self.env(),
            cwd=self.workdir,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise AssertionError(f"server exited early:\n{self.log()}")
                try:
                    async with session.get(self.base_url + "/healthz") as resp:
                        if resp.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError(f"server did not become healthy:\n{self.log()}")

    def log(self) -> str:
        path = self.workdir / "server.log"
        return path.read_text(errors="replace")[-20000:] if path.exists() else ""

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Server]:
        """Started, and stopped afterwards if it still runs (a test may stop it itself)."""
        await self.start()
        try:
            yield self
        finally:
            if self.process is not None and self.process.poll() is None:
                await self.stop()

    async def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 10) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return await asyncio.to_thread(self.process.wait, timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"server did not stop within {timeout} s") from None
        finally:
            if self._log_file is not None:
                self._log_file.close()

    # ----- REST -----

    async def request(
        self, method: str, path: str, token: str | None = None, body: Any = None
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with (
            aiohttp.ClientSession() as session,
            session.request(method, self.base_url + path, json=body, headers=headers) as resp,
        ):
            raw = await resp.text()
            try:
                return resp.status, json.loads(raw)
            except json.JSONDecodeError:
                return resp.status, raw

    async def login(self, username: str, password: str) -> str:
        status, body = await self.request(
            "POST", "/api/v1/auth/login", body={"username": username, "password": password}
        )
        assert status == 200, body
        return str(body["token"])

    async def set_state(self, username: str, state: str) -> None:
        token = await self.login(username, f"{username}-demo")
        status, body = await self.request(
            "PUT", f"/api/v1/agents/{username}/state", token, {"state": state}
        )
        assert status == 200, body

    async def agent_state(self, agent: str) -> str:
        """The agent's state as this process's ACD sees it (asked as the supervisor)."""
        token = await self.login("sue", "sue-demo")
        status, body = await self.request("GET", "/api/v1/agents", token)
        assert status == 200, body
        return next(str(a["state"]) for a in body["agents"] if a["username"] == agent)

    async def metrics(self) -> str:
        async with (
            aiohttp.ClientSession() as session,
            session.get(self.base_url + "/metrics") as resp,
        ):
            return await resp.text()

    async def calls(self) -> list[dict[str, Any]]:
        token = await self.login("sue", "sue-demo")
        status, body = await self.request("GET", "/api/v1/calls?limit=50", token)
        assert status == 200, body
        return list(body["calls"])


async def started(server: Server) -> Server:
    """Migrated, with the demo data, and serving."""
    await server.prepare()
    await server.start()
    return server


async def eventually(check: Callable[[], Awaitable[Any]], what: str, timeout: float = 20) -> Any:
    """The first truthy result of `check`, polled every 0.2 s; fails naming `what`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        await asyncio.sleep(0.2)


def metric_value(exposition: str, name: str, **labels: str) -> float | None:
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in exposition.splitlines():
        if line.startswith("#"):
            continue
        metric, _, value = line.rpartition(" ")
        base, _, label_part = metric.partition("{")
        if base != name:
            continue
        found = ",".join(sorted(label_part.rstrip("}").split(","))) if label_part else ""
        if found == want:
            return float(value)
    return None


@dataclass
class Sipp:
    """One SIPp process playing a scenario from tests/sipp."""

    scenario: str
    args: list[str]
    workdir: Path
    process: asyncio.subprocess.Process | None = None

    async def start(self) -> Sipp:
        sipp = require_sipp()
        self.process = await asyncio.create_subprocess_exec(
            sipp,
            *self.args,
            "-sf",
            str(SIPP_DIR / self.scenario),
            "-nostdin",
            "-trace_err",
            "-trace_msg",
            cwd=self.workdir,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        RUNNING.append(self)
        return self

    async def wait(self, timeout: float = 60) -> tuple[int, str]:
        assert self.process is not None
        try:
            out, _ = await asyncio.wait_for(self.process.communicate(), timeout)
        except TimeoutError:
            self.process.kill()
            out, _ = await self.process.communicate()
            return -1, out.decode(errors="replace")[-4000:] + self.traces()
        return int(self.process.returncode or 0), out.decode(errors="replace")[-4000:]

    def traces(self) -> str:
        texts = []
        for path in self.workdir.glob(f"{Path(self.scenario).stem}*_errors.log"):
            texts.append(path.read_text(errors="replace")[-4000:])
        return "\n".join(texts)

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()


def agent_phone(scenario: str, port: int, workdir: Path, calls: int = 1, talk_ms: int = 0) -> Sipp:
    """An agent's SIP phone at `port`; `talk_ms` is the scenario's -d pause."""
    return Sipp(
        scenario,
        [
            "-i",
            "127.0.0.1",
            "-p",
            str(port),
            "-mi",
            "127.0.0.1",
            "-mp",
            str(free_media_ports()),
            "-m",
            str(calls),
            "-timeout",
            "90s",
            "-timeout_error",
            *(["-d", str(talk_ms)] if talk_ms else []),
        ],
        workdir,
    )


def caller_args(server: Server | int, number: str = DEMO_NUMBER) -> list[str]:
    """SIPp options of a caller dialling the hotline from a free port, with media: at a
    server, or at a SIP port on loopback (a proxy in front of servers)."""
    port = server if isinstance(server, int) else server.sip_port
    return [
        f"127.0.0.1:{port}",
        "-i",
        "127.0.0.1",
        "-p",
        str(free_udp_tcp_port()),
        "-mi",
        "127.0.0.1",
        "-mp",
        str(free_media_ports()),
        "-s",
        "hotline",
        "-key",
        "caller",
        number,
    ]


def caller(
    scenario: str, server: Server, workdir: Path, number: str = DEMO_NUMBER, talk_ms: int = 4000
) -> Sipp:
    args = [*caller_args(server, number), "-m", "1", "-d", str(talk_ms)]
    return Sipp(scenario, [*args, "-timeout", "90s", "-timeout_error"], workdir)


#: sip-tester's RFC 4733 recordings carry increasing RTP timestamps in this order only;
#: a receiver drops a key whose timestamp goes back, so sequences must follow it.
DTMF_PCAP_ORDER = "1023456789*#"


def dtmf_presses(keys: str, first_key_ms: int) -> list[str]:
    """SIPp scenario lines pressing `keys`, the first after `first_key_ms`, then every 0.9 s."""
    positions = [DTMF_PCAP_ORDER.index(k) for k in keys]
    if positions != sorted(positions):
        raise ValueError(f"keys {keys!r} must follow the order {DTMF_PCAP_ORDER!r}")
    names = {"*": "star", "#": "pound"}
    presses = []
    for n, key in enumerate(keys):
        pcap = f"/usr/share/sip-tester/dtmf_2833_{names.get(key, key)}.pcap"
        wait = first_key_ms if n == 0 else 900
        presses.append(
            f'  <pause milliseconds="{wait}"/>\n'
            f'  <nop><action><exec play_pcap_audio="{pcap}"/></action></nop>'
        )
    return presses


def dtmf_caller(
    server: Server, workdir: Path, keys: str, first_key_ms: int = 1500, talk_ms: int = 4000
) -> Sipp:
    """A caller who presses `keys` (RFC 4733 from sip-tester's pcaps), then talks."""
    presses = dtmf_presses(keys, first_key_ms)
    template = (SIPP_DIR / "caller.xml").read_text()
    media = '      <exec play_pcap_audio="/usr/share/sip-tester/g711a.pcap"/>\n'
    start = template.index("  <nop>\n    <action>\n" + media)
    end = template.index("  <pause/>") + len("  <pause/>")
    scenario = template[:start] + "\n".join(presses) + "\n  <pause/>" + template[end:]
    path = workdir / f"caller_dtmf_{keys.replace('*', 's').replace('#', 'p')}.xml"
    path.write_text(scenario)
    args = [*caller_args(server), "-m", "1", "-d", str(talk_ms)]
    return Sipp(str(path), [*args, "-timeout", "90s", "-timeout_error"], workdir)
