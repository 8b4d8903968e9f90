"""Digest authentication of trunks, with SIPp answering the challenge."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.integration.harness import ROOT, Server, Sipp, caller, eventually, metric_value

pytestmark = pytest.mark.sip

PBX = "127.0.0.2"


def from_pbx(scenario: str, server: Server, workdir: Path, talk_ms: int = 1500) -> Sipp:
    """A caller whose INVITEs come from the PBX trunk's address."""
    sipp = caller(scenario, server, workdir, talk_ms=talk_ms)
    for option in ("-i", "-mi"):
        sipp.args[sipp.args.index(option) + 1] = PBX
    return sipp


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    """127.0.0.2 is a PBX trunk that must authenticate as pbx (its password from the
    environment); the rest of loopback is a trunk without credentials."""
    config = yaml.safe_load((ROOT / "config" / "callcenter.yaml").read_text())
    config["sip"]["trunks"] = [
        {
            "name": "pbx",
            "networks": [f"{PBX}/32"],
            "username": "pbx",
            "password_env": "CALLCENTER_SECRET_PBX",
        },
        {"name": "loopback", "networks": ["127.0.0.0/8"]},
    ]
    path = tmp_path / "digest.yaml"
    path.write_text(yaml.safe_dump(config))
    env = {"CALLCENTER_CONFIG": str(path), "CALLCENTER_SECRET_PBX": "trunk-secret"}
    server = Server(f"sqlite+aiosqlite:///{tmp_path / 'cc.db'}", tmp_path, extra_env=env)
    await server.prepare()
    await server.start()
    yield server
    if server.process is not None and server.process.poll() is None:
        await server.stop()


async def refused(server: Server, reason: str) -> float | None:
    return metric_value(await server.metrics(), "callcenter_sip_refused_total", reason=reason)


async def test_trunk_that_answers_the_challenge_gets_its_call(
    server: Server, tmp_path: Path
) -> None:
    code, out = await (await from_pbx("caller_digest.xml", server, tmp_path).start()).wait(30)
    assert code == 0, out
    assert await refused(server, "challenge") == 1
    assert await refused(server, "auth") == 0

    async def recorded() -> list[dict[str, Any]]:
        return [c for c in await server.calls() if c["ended_at"] is not None]

    [call] = await eventually(recorded, "the authenticated call's record")
    assert call["caller"] == "+862088881001"


async def test_wrong_password_gets_403_and_a_log_line(server: Server, tmp_path: Path) -> None:
    code, out = await (await from_pbx("caller_digest_wrong.xml", server, tmp_path).start()).wait(30)
    assert code == 0, out
    assert await refused(server, "auth") == 1
    assert "wrong digest credentials for trunk pbx" in server.log()
    assert f"refused SIP INVITE from {PBX}" in server.log()
    assert await server.calls() == []  # refused before any call record


async def test_an_unauthenticated_caller_is_challenged_not_served(
    server: Server, tmp_path: Path
) -> None:
    # caller.xml does not answer the 401: its INVITE fails, no call is made.
    code, _ = await (await from_pbx("caller.xml", server, tmp_path, talk_ms=500).start()).wait(30)
    assert code != 0
    assert await refused(server, "challenge") == 1
    assert await server.calls() == []


async def test_a_trunk_without_credentials_is_not_challenged(
    server: Server, tmp_path: Path
) -> None:
    code, out = await (await caller("caller.xml", server, tmp_path, talk_ms=500).start()).wait(30)
    assert code == 0, out
    assert await refused(server, "challenge") == 0
