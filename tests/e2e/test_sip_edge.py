"""What the SIP edge turns away, and that it keeps serving afterwards."""

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


async def test_invite_from_outside_the_trunks_gets_403(
    sqlite_url: str, tmp_path: Path, stoppable: list[Server]
) -> None:
    config = yaml.safe_load((ROOT / "config" / "callcenter.yaml").read_text())
    config["sip"]["trunks"] = [{"name": "pbx", "networks": ["192.0.2.0/24"]}]
    path = tmp_path / "trunk-only.yaml"
    path.write_text(yaml.safe_dump(config))
    server = Server(sqlite_url, tmp_path, extra_env={"CALLCENTER_CONFIG": str(path)})
    stoppable.append(await started(server))

    code, out = await (await caller("caller_forbidden.xml", server, tmp_path).start()).wait(30)
    assert code == 0, out
    metrics = await server.metrics()
    assert metric_value(metrics, "callcenter_sip_refused_total", reason="trunk") == 1
    assert "not a configured trunk" in server.log()
    assert await server.calls() == []  # refused before any call record


async def test_call_beyond_max_calls_gets_503_with_retry_after_and_others_go_on(
    sqlite_url: str, tmp_path: Path, stoppable: list[Server]
) -> None:
    server = Server(sqlite_url, tmp_path, extra_env={"CALLCENTER_SIP_MAX_CALLS": "1"})
    stoppable.append(await started(server))
    first = await caller("caller.xml", server, tmp_path, talk_ms=6000).start()
    await asyncio.sleep(1.5)  # the first call is up (greeting, then queue)
    code, out = await (await caller("caller_unavailable.xml", server, tmp_path).start()).wait(30)
    assert code == 0, out
    code, out = await first.wait(30)
    assert code == 0, out  # the call in progress was not disturbed
    metrics = await server.metrics()
    assert metric_value(metrics, "callcenter_sip_refused_total", reason="capacity") == 1
    assert metric_value(metrics, "callcenter_sip_capacity_rejections_total") == 1
    refused = [c for c in await server.calls() if c["outcome"] == "refused"]
    assert len(refused) == 1 and refused[0]["caller"] == "+862088881001"
    # Capacity is free again: a new call is served.
    code, out = await (await caller("caller.xml", server, tmp_path, talk_ms=1000).start()).wait(30)
    assert code == 0, out


MALFORMED = [
    b"\x00\xff garbage that is not SIP at all \r\n\r\n",
    b"INVITE sip:hotline@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK1\r\n"
    b"From: <sip:1@x>;tag=1\r\nTo: <sip:hotline@x>\r\nCSeq: 1 INVITE\r\n"
    b"Content-Length: 0\r\n\r\n",  # no Call-ID
    b"INVITE sip:hotline@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK2\r\n"
    b"X-Huge: " + b"A" * 60000 + b"\r\n\r\n",
    b"OPTIONS sip:hotline@127.0.0.1 SIP/2.0\r\nContent-Length: -5\r\n\r\n",
]


async def test_malformed_sip_is_survived_and_the_next_call_is_served(
    sqlite_url: str, tmp_path: Path, stoppable: list[Server]
) -> None:
    server = Server(sqlite_url, tmp_path)
    stoppable.append(await started(server))
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        asyncio.DatagramProtocol, remote_addr=("127.0.0.1", server.sip_port)
    )
    try:
        for datagram in MALFORMED * 20:
            transport.sendto(datagram)
    finally:
        transport.close()
    _reader, writer = await asyncio.open_connection("127.0.0.1", server.sip_port)
    writer.write(b"REGISTER nonsense\r\n\r\n" + b"\x00" * 4096)
    await writer.drain()
    writer.close()
    await asyncio.sleep(0.5)
    assert server.process is not None and server.process.poll() is None
    code, out = await (await caller("caller.xml", server, tmp_path, talk_ms=1000).start()).wait(30)
    assert code == 0, out


async def test_full_queue_overflows_to_ticket_only(
    tmp_path: Path, sqlite_url: str, stoppable: list[Server]
) -> None:
    config = yaml.safe_load((ROOT / "config" / "callcenter.yaml").read_text())
    [queue] = config["acd"]["queues"]
    queue.update(max_waiting=1, overflow_target={"kind": "ticket_only"})
    path = tmp_path / "small-queue.yaml"
    path.write_text(yaml.safe_dump(config))
    server = Server(sqlite_url, tmp_path, extra_env={"CALLCENTER_CONFIG": str(path)})
    stoppable.append(await started(server))

    # Nobody is available: the first caller waits, the second finds the line full.
    first = await caller(
        "caller.xml", server, tmp_path, number="+862088881009", talk_ms=9000
    ).start()
    await asyncio.sleep(3)
    second = await caller("caller_until_bye.xml", server, tmp_path).start()
    code, out = await second.wait(40)
    assert code == 0, out  # the hotline said goodbye and hung up
    code, out = await first.wait(30)
    assert code == 0, out

    calls = await server.calls()
    overflowed = [c for c in calls if c["outcome"] == "overflowed"]
    assert len(overflowed) == 1
    assert overflowed[0]["employee"] == "zhangsanKJC" and overflowed[0]["ticket_id"] is not None
    assert overflowed[0]["agent"] is None and overflowed[0]["ended_at"] is not None
    assert [c["outcome"] for c in calls if c["caller"] == "+862088881009"] == ["abandoned"]


async def test_an_invite_flood_from_one_source_is_rate_limited(
    sqlite_url: str, tmp_path: Path, stoppable: list[Server]
) -> None:
    server = Server(
        sqlite_url,
        tmp_path,
        extra_env={
            "CALLCENTER_SIP_INVITE_RATE_PER_SOURCE": "1",
            "CALLCENTER_SIP_INVITE_BURST_PER_SOURCE": "3",
        },
    )
    stoppable.append(await started(server))
    burst = Sipp(
        "caller.xml",
        [*caller_args(server), "-r", "50", "-m", "10", "-d", "500", "-timeout", "30s"],
        tmp_path,
    )
    await (await burst.start()).wait(40)  # most of these calls are refused: not asserted
    metrics = await server.metrics()
    refused = metric_value(metrics, "callcenter_sip_refused_total", reason="flood")
    assert refused is not None and 5 <= refused <= 7
    assert "INVITE flood from 127.0.0.1" in server.log()
    await asyncio.sleep(3.5)  # the bucket refills
    code, out = await (await caller("caller.xml", server, tmp_path, talk_ms=500).start()).wait(30)
    assert code == 0, out


async def test_options_health_check_is_answered(
    sqlite_url: str, tmp_path: Path, stoppable: list[Server]
) -> None:
    server = Server(sqlite_url, tmp_path)
    stoppable.append(await started(server))
    ping = Sipp("options.xml", [*caller_args(server), "-m", "3", "-timeout", "20s"], tmp_path)
    code, out = await (await ping.start()).wait(30)
    assert code == 0, out
