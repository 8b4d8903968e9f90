"""Attacks one request could mount on a running server, and that it keeps serving (#14).

Each test runs a real `callcenter serve` (SQLite, pjsua2) and real SIPp peers.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest

from tests.integration.harness import SIPP_DIR, Server, Sipp, caller_args, eventually

pytestmark = pytest.mark.sip

#: Every staffing bound at its worst: the most traffic and the loosest occupancy cap.
WORST_ERLANG = (
    "/api/v1/staffing/erlang?calls=40000&interval_minutes=60&aht=900"
    "&answer_within=0&target=0.99&max_occupancy=0.5"
)
#: The request that froze the loop before the bounds (issue #14, item 1).
FREEZING_ERLANG = (
    "/api/v1/staffing/erlang?calls=100&interval_minutes=60&aht=36"
    "&answer_within=20&target=0.8&max_occupancy=1e-12"
)


async def test_staffing_requests_never_stall_health_or_sip(server: Server, tmp_path: Path) -> None:
    token = await server.login("alice", "alice-demo")
    status, body = await server.request("GET", FREEZING_ERLANG, token)
    assert status == 400, body
    assert "max_occupancy" in str(body)

    timeout = aiohttp.ClientTimeout(total=10)
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(server.base_url, timeout=timeout) as http:

        async def staffing() -> int:
            async with http.get(WORST_ERLANG, headers=headers) as resp:
                await resp.read()
                return resp.status

        async def health() -> list[int]:
            answers = []
            for _ in range(20):
                async with http.get("/healthz") as resp:
                    answers.append(resp.status)
            return answers

        # Twenty of the worst accepted requests at once; health and SIP go on meanwhile.
        load = [asyncio.create_task(staffing()) for _ in range(20)]
        ping = Sipp("options.xml", [*caller_args(server), "-m", "3", "-timeout", "20s"], tmp_path)
        await ping.start()
        assert await health() == [200] * 20
        code, out = await ping.wait(30)
        assert code == 0, out
        statuses = await asyncio.gather(*load)
    assert set(statuses) <= {200, 503}, statuses  # served, or "busy, retry"
    assert 200 in statuses


def odd_bytes_caller(workdir: Path) -> Path:
    """caller.xml with a P-Asserted-Identity carrying bytes that are not UTF-8."""
    scenario = (SIPP_DIR / "caller.xml").read_bytes()
    marker = b"      Call-ID: [call_id]\n"
    header = b'      P-Asserted-Identity: "Caller \xff\xfe" <sip:+86208888\xc3\x281001@127.0.0.1>\n'
    assert scenario.count(marker) >= 1
    path = workdir / "caller_odd_bytes.xml"
    path.write_bytes(scenario.replace(marker, header + marker, 1))
    return path


async def test_an_invite_with_invalid_utf8_keeps_its_call_record(
    server: Server, tmp_path: Path
) -> None:
    phone = Sipp(
        str(odd_bytes_caller(tmp_path)),
        [*caller_args(server), "-m", "1", "-d", "1500", "-timeout", "60s", "-timeout_error"],
        tmp_path,
    )
    code, out = await (await phone.start()).wait(60)
    assert code == 0, out

    async def recorded() -> list[dict[str, object]]:
        return [c for c in await server.calls() if c["ended_at"] is not None]

    calls = await eventually(recorded, "the call's record, ended")
    assert len(calls) == 1
    assert calls[0]["caller"] == "+86208888\ufffd(1001"  # the odd byte, replaced, not dropped
    assert "spooled" not in server.log()
    assert not (tmp_path / "var" / "spool" / "call-records.jsonl").exists()


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/healthz"), ("POST", "/api/v1/auth/logout"), ("POST", "/api/v1/auth/login")],
)
async def test_a_huge_declared_body_is_refused_and_never_read(
    server: Server, method: str, path: str
) -> None:
    """413 before any handler, read or not; the server closes the connection without
    reading the body (aiohttp's default would read and discard it for 10 s)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.http_port)
    writer.write(
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Content-Length: 1000000000\r\n\r\n".encode()
    )
    await writer.drain()
    async with asyncio.timeout(5):  # less than aiohttp's lingering time
        reply = await reader.read()  # to the end: the server closed the connection
    writer.close()
    assert reply.startswith(b"HTTP/1.1 413 "), reply[:200]
    assert b'"body_too_large"' in reply
