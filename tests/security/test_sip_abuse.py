"""The SIP edge under abuse (#14): strangers flooding INVITEs are rate-limited before
the trunk check, and idle TCP connections from anywhere are closed, while real calls and
OPTIONS go on being served."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml

from tests.integration.harness import (
    ROOT,
    Server,
    Sipp,
    caller,
    caller_args,
    metric_value,
    started,
)

pytestmark = pytest.mark.sip

#: scripts/pjsua2/config_site.h: an incoming connection silent this long is closed.
TCP_INITIAL_TIMEOUT = 10


async def test_a_stranger_is_flood_limited_too_and_logged_once(
    sqlite_url: str, tmp_path: Path, stoppable: list[Server]
) -> None:
    """The flood limit comes before the trunk check: a source outside the trunks gets
    403 to every INVITE, but past the rate they cost no log line each."""
    config = yaml.safe_load((ROOT / "config" / "callcenter.yaml").read_text())
    config["sip"].update(
        trunks=[{"name": "pbx", "networks": ["192.0.2.0/24"]}],
        invite_rate_per_source=1,
        invite_burst_per_source=3,
    )
    path = tmp_path / "trunk-only.yaml"
    path.write_text(yaml.safe_dump(config))
    server = Server(sqlite_url, tmp_path, extra_env={"CALLCENTER_CONFIG": str(path)})
    stoppable.append(await started(server))
    strangers = Sipp(
        "caller_forbidden.xml",
        [*caller_args(server), "-r", "50", "-m", "10", "-timeout", "30s"],
        tmp_path,
    )
    code, out = await (await strangers.start()).wait(40)
    assert code == 0, out  # every one of the ten got its 403
    metrics = await server.metrics()
    trunk = metric_value(metrics, "callcenter_sip_refused_total", reason="trunk")
    flood = metric_value(metrics, "callcenter_sip_refused_total", reason="flood")
    assert trunk is not None and flood is not None and trunk + flood == 10
    assert 5 <= flood <= 7
    log = (server.workdir / "server.log").read_text()
    assert log.count("not a configured trunk") == 1
    assert log.count("INVITE flood from 127.0.0.1") == 1


async def test_idle_tcp_connections_are_closed_and_a_talking_one_is_served(
    sqlite_url: str, tmp_path: Path, stoppable: list[Server]
) -> None:
    server = Server(sqlite_url, tmp_path)
    stoppable.append(await started(server))
    idle = [await asyncio.open_connection("127.0.0.1", server.sip_port) for _ in range(30)]
    reader, writer = await asyncio.open_connection("127.0.0.1", server.sip_port)
    host, port = writer.get_extra_info("sockname")[:2]
    local = f"{host}:{port}"
    writer.write(
        (
            f"OPTIONS sip:hotline@127.0.0.1:{server.sip_port} SIP/2.0\r\n"
            f"Via: SIP/2.0/TCP {local};branch=z9hG4bKidle1\r\n"
            "From: <sip:probe@127.0.0.1>;tag=1\r\nTo: <sip:hotline@127.0.0.1>\r\n"
            "Call-ID: idle-test\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
            "Content-Length: 0\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    answer = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    assert answer.startswith(b"SIP/2.0 200 "), answer
    async with asyncio.timeout(TCP_INITIAL_TIMEOUT + 15):  # closed by the server, not us
        for idle_reader, _ in idle:
            assert await idle_reader.read() == b""
    for _, idle_writer in idle:
        idle_writer.close()
    writer.close()
    code, out = await (await caller("caller.xml", server, tmp_path, talk_ms=500).start()).wait(30)
    assert code == 0, out
