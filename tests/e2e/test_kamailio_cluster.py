"""The local cluster of `make cluster`: Kamailio in front of two `callcenter serve` nodes.

`scripts/cluster.py start` brings up Kamailio and the nodes (one Redis, one PostgreSQL)
on free loopback ports; SIPp callers dial Kamailio, which spreads the calls over both
nodes. After one node is SIGKILLed, Kamailio's OPTIONS probes mark it down and every new
call goes to the survivor and is answered; started again (`scripts/cluster.py
start-node`), it answers the probes and takes calls again.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
import yaml

from tests.integration.harness import (
    ROOT,
    Server,
    Sipp,
    agent_phone,
    caller_args,
    eventually,
    metric_value,
)
from tests.services import (
    free_udp_tcp_port,
    fresh_postgres_database,
    require_pjsua2,
    require_redis,
    require_sipp,
    unavailable,
)

pytestmark = [pytest.mark.sip, pytest.mark.slow]

SCRIPT = ROOT / "scripts" / "cluster.py"
PROBE_SECONDS = 1


def require_kamailio() -> str:
    path = shutil.which("kamailio") or (
        "/usr/sbin/kamailio" if Path("/usr/sbin/kamailio").exists() else None
    )
    if path is None:
        unavailable("kamailio (Debian package kamailio, `make cluster` installs it)")
    assert path is not None
    return path


@dataclass
class LocalCluster:
    kamailio_port: int
    nodes: dict[str, Server]
    directory: Path
    agents: dict[str, int]
    script_args: list[str]
    env: dict[str, str]

    def pid(self, name: str) -> int:
        return int((self.directory / f"{name}.pid").read_text())

    def kamailio_log(self) -> str:
        return (self.directory / "kamailio.log").read_text(errors="replace")

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-4000:]}"
            for p in sorted(self.directory.glob("*.log"))
        )


def run_script(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.fixture
async def local_cluster(tmp_path: Path) -> AsyncIterator[LocalCluster]:
    require_kamailio()
    require_sipp()
    require_pjsua2()
    redis_url = require_redis()
    prefix = f"test:kamailio:{uuid.uuid4().hex[:8]}"
    async with fresh_postgres_database() as database_url:
        nodes = {}
        for name in ("node1", "node2"):
            (tmp_path / name).mkdir()
            nodes[name] = Server(database_url, tmp_path / name)
        first = nodes["node1"]
        await first.prepare()  # migrations, demo data, prompts, agents' phones
        description: dict[str, Any] = {
            "kamailio": {
                "sip_port": free_udp_tcp_port(),
                "probe_interval_seconds": PROBE_SECONDS,
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
                for name, node in nodes.items()
            ],
        }
        cluster_file = tmp_path / "cluster.yaml"
        cluster_file.write_text(yaml.safe_dump(description))
        directory = tmp_path / "cluster"
        env = first.env()
        env.update(
            CALLCENTER_REDIS_URL=redis_url,
            CALLCENTER_REDIS_KEY_PREFIX=prefix,
            CALLCENTER_REDIS_LEASE_SECONDS="1.5",
        )
        common = ["--cluster", str(cluster_file), "--dir", str(directory)]
        cluster = LocalCluster(
            description["kamailio"]["sip_port"], nodes, directory, dict(first.agents), common, env
        )
        try:
            started = run_script(*common, "start", "--nodes", "2", env=env)
            assert started.returncode == 0, started.stdout + started.stderr + cluster.logs()
            yield cluster
        finally:
            stopped = run_script(*common, "stop", env=env)
            assert stopped.returncode == 0, stopped.stderr
            client = aioredis.from_url(redis_url)
            keys = [k async for k in client.scan_iter(f"{prefix}:*")]
            if keys:
                await client.delete(*keys)
            await client.aclose()


def call_through_kamailio(cluster: LocalCluster, workdir: Path, talk_ms: int = 5000) -> Sipp:
    """A caller who stays long enough (talk_ms after the IVR answers) to reach alice."""
    args = [*caller_args(cluster.kamailio_port), "-m", "1", "-d", str(talk_ms)]
    args += ["-timeout", "60s", "-timeout_error"]
    return Sipp("caller_via_proxy.xml", args, workdir)


async def offered(server: Server) -> float:
    value = metric_value(await server.metrics(), "callcenter_calls_offered_total", queue="helpdesk")
    return value or 0.0


async def answered_calls(
    cluster: LocalCluster, workdir: Path, via: Server, count: int
) -> list[str]:
    """`count` calls in turn through Kamailio, each answered by alice; the nodes they hit."""
    alice = agent_phone("agent_answer.xml", cluster.agents["alice"], workdir, calls=count)
    await alice.start()
    await via.set_state("alice", "available")
    before = len(re.findall(r"INVITE \S+ to ", cluster.kamailio_log()))
    for _ in range(count):

        async def alice_available() -> bool:
            return await via.agent_state("alice") == "available"

        await eventually(alice_available, "alice is available again")
        phone = await call_through_kamailio(cluster, workdir).start()
        code, out = await phone.wait(60)
        assert code == 0, out + phone.traces() + cluster.logs()
    code, out = await alice.wait(30)
    assert code == 0, out + alice.traces() + cluster.logs()
    ports = {str(s.sip_port): name for name, s in cluster.nodes.items()}
    lines = re.findall(r"INVITE \S+ to sip:127\.0\.0\.1:(\d+)", cluster.kamailio_log())
    return [ports[p] for p in lines[before:]]


async def test_kamailio_spreads_calls_and_skips_a_dead_node(
    local_cluster: LocalCluster, tmp_path: Path
) -> None:
    cluster = local_cluster
    node1, node2 = cluster.nodes["node1"], cluster.nodes["node2"]

    hit = await answered_calls(cluster, tmp_path, node1, 2)
    assert sorted(hit) == ["node1", "node2"], [*hit, cluster.logs()]  # round robin
    # Each node counts the calls whose SIP leg it holds.
    assert (await offered(node1), await offered(node2)) == (1, 1)

    os.kill(cluster.pid("node2"), signal.SIGKILL)
    # Within its probe interval plus the probe's 2 s transaction timeout (fr_timer),
    # Kamailio marks node2 inactive; no new INVITE goes there any more.
    await asyncio.sleep(PROBE_SECONDS + 2 + 3)
    hit = await answered_calls(cluster, tmp_path, node1, 3)
    assert hit == ["node1"] * 3, [*hit, cluster.kamailio_log()[-3000:]]
    assert await offered(node1) == 4

    async def all_records() -> list[dict[str, Any]] | None:
        done = [c for c in await node1.calls() if c["ended_at"] is not None]
        return done if len(done) == 5 else None

    records = await eventually(all_records, "the five call records are complete")
    assert {(r["agent"], r["outcome"]) for r in records} == {("alice", "answered")}

    # Started again, node2 rejoins the shared ACD as a new node and, once a probe of
    # Kamailio's is answered, takes its share of the calls again.
    restarted = run_script(*cluster.script_args, "start-node", "node2", env=cluster.env)
    assert restarted.returncode == 0, restarted.stdout + restarted.stderr + cluster.logs()
    await asyncio.sleep(PROBE_SECONDS + 2)
    hit = await answered_calls(cluster, tmp_path, node1, 2)
    assert "node2" in hit, [*hit, cluster.kamailio_log()[-3000:]]
    assert await offered(node2) == hit.count("node2")

    async def seven_records() -> list[dict[str, Any]] | None:
        done = [c for c in await node2.calls() if c["ended_at"] is not None]
        return done if len(done) == 7 else None

    records = await eventually(seven_records, "the seven call records are complete")
    assert {(r["agent"], r["outcome"]) for r in records} == {("alice", "answered")}
