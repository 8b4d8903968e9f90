"""SIP over TLS, with a peer written on Python's ssl module (this SIPp has no TLS)."""

from __future__ import annotations

import asyncio
import re
import shutil
import socket
import ssl
import subprocess
import threading
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.integration.harness import ROOT, Server, caller, eventually
from tests.services import free_port, unavailable

pytestmark = pytest.mark.sip

SDP = (
    "v=0\r\no=peer 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio {port} RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n"
)


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made by openssl."""
    openssl = shutil.which("openssl")
    if openssl is None:
        unavailable("openssl")
        raise AssertionError("unreachable")
    cert, key = directory / "sip.crt", directory / "sip.key"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def tls_config(tmp_path: Path, cert: Path, key: Path, tls_port: int, **more: Any) -> Path:
    config = yaml.safe_load((ROOT / "config" / "callcenter.yaml").read_text())
    config["sip"].update(
        transports=["udp", "tcp", "tls"],
        tls_port=tls_port,
        tls_certificate=str(cert),
        tls_private_key=str(key),
        **more,
    )
    path = tmp_path / "tls.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture
async def tls_server(tmp_path: Path) -> AsyncIterator[tuple[Server, ssl.SSLContext, int]]:
    cert, key = self_signed(tmp_path)
    tls_port = free_port()
    path = tls_config(tmp_path, cert, key, tls_port)
    db = f"sqlite+aiosqlite:///{tmp_path / 'cc.db'}"
    server = Server(db, tmp_path, extra_env={"CALLCENTER_CONFIG": str(path)})
    await server.prepare()
    await server.start()
    context = ssl.create_default_context(cafile=str(cert))  # verifies the server's certificate
    yield server, context, tls_port
    if server.process is not None and server.process.poll() is None:
        await server.stop()


class TlsPeer:
    """A SIP user agent on one TLS connection: sends requests, reads what comes back."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        host, port = writer.get_extra_info("sockname")[:2]
        self.local = f"{host}:{port}"
        self.call_id = f"{uuid.uuid4()}@tls-peer"

    async def send(self, request: str, body: str = "") -> None:
        head = request.strip().replace("\n", "\r\n")
        kind = "Content-Type: application/sdp\r\n" if body else ""
        message = f"{head}\r\n{kind}Content-Length: {len(body.encode())}\r\n\r\n{body}"
        self.writer.write(message.encode())
        await self.writer.drain()

    async def read(self) -> str:
        head = (await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), 15)).decode()
        match = re.search(r"(?im)^(?:content-length|l)\s*:\s*(\d+)", head)
        body = await self.reader.readexactly(int(match.group(1))) if match else b""
        return head + body.decode()

    async def response_to(self, cseq: str) -> list[str]:
        """Responses to the request with this CSeq, up to the final one (requests skipped)."""
        found = []
        while True:
            message = await self.read()
            if not message.startswith("SIP/2.0 ") or f"CSeq: {cseq}" not in message:
                continue
            found.append(message)
            if int(message.split()[1]) >= 200:
                return found

    def headers(self, method: str, cseq: int, to_tag: str = "") -> str:
        branch = f"z9hG4bK{uuid.uuid4().hex}"
        return (
            f"Via: SIP/2.0/TLS {self.local};branch={branch}\n"
            f"From: <sip:+862088881001@127.0.0.1>;tag=peer1\n"
            f"To: <sip:hotline@127.0.0.1>{to_tag}\n"
            f"Call-ID: {self.call_id}\nCSeq: {cseq} {method}\n"
            f"Contact: <sip:+862088881001@{self.local};transport=tls>\nMax-Forwards: 70"
        )


async def connect(context: ssl.SSLContext, port: int) -> TlsPeer:
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", port, ssl=context, server_hostname="127.0.0.1"
    )
    return TlsPeer(reader, writer)


async def test_options_over_tls_is_answered(tls_server: tuple[Server, Any, int]) -> None:
    _, context, port = tls_server
    peer = await connect(context, port)
    uri = f"sip:hotline@127.0.0.1:{port};transport=tls"
    await peer.send(f"OPTIONS {uri} SIP/2.0\n{peer.headers('OPTIONS', 1)}")
    [*_, final] = await peer.response_to("1 OPTIONS")
    assert final.startswith("SIP/2.0 200 ")
    peer.writer.close()


async def test_call_over_tls_is_answered_and_hung_up(tls_server: tuple[Server, Any, int]) -> None:
    server, context, port = tls_server
    peer = await connect(context, port)
    uri = f"sip:hotline@127.0.0.1:{port};transport=tls"
    sdp = SDP.format(port=free_port())
    await peer.send(f"INVITE {uri} SIP/2.0\n{peer.headers('INVITE', 1)}", sdp)
    responses = await peer.response_to("1 INVITE")
    codes = [int(r.split()[1]) for r in responses]
    assert 180 in codes and codes[-1] == 200, responses
    ok = responses[-1]
    assert "m=audio" in ok and re.search(r"(?im)^contact:.*transport=tls", ok), ok
    tag = re.search(r"(?im)^to:.*(;tag=[^;\s]+)", ok)
    assert tag is not None
    await peer.send(f"ACK {uri} SIP/2.0\n{peer.headers('ACK', 1, tag.group(1))}")
    await peer.send(f"BYE {uri} SIP/2.0\n{peer.headers('BYE', 2, tag.group(1))}")
    [*_, bye_ok] = await peer.response_to("2 BYE")
    assert bye_ok.startswith("SIP/2.0 200 ")
    peer.writer.close()

    async def ended() -> list[dict[str, Any]]:
        return [c for c in await server.calls() if c["ended_at"] is not None]

    [call] = await eventually(ended, "the TLS call's record, ended")
    assert call["caller"] == "+862088881001"


async def test_tls_without_its_certificate_is_a_config_error(tmp_path: Path) -> None:
    path = tls_config(tmp_path, tmp_path / "absent.crt", tmp_path / "absent.key", free_port())
    server = Server(f"sqlite+aiosqlite:///{tmp_path / 'cc.db'}", tmp_path)
    server.extra_env["CALLCENTER_CONFIG"] = str(path)
    done = server.cli("serve")
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0, done.stderr
    assert "tls_certificate: no such file" in done.stderr and "absent.crt" in done.stderr


async def test_client_certificates_are_required_when_verified(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    port = free_port()
    path = tls_config(tmp_path, cert, key, port, tls_ca_file=str(cert), tls_verify_client=True)
    server = Server(f"sqlite+aiosqlite:///{tmp_path / 'cc.db'}", tmp_path)
    server.extra_env["CALLCENTER_CONFIG"] = str(path)
    await server.prepare()
    await server.start()
    try:
        anonymous = ssl.create_default_context(cafile=str(cert))
        with pytest.raises((ssl.SSLError, ConnectionError, asyncio.IncompleteReadError)):
            peer = await connect(anonymous, port)  # TLS 1.3 may fail at the first read
            await peer.send(
                f"OPTIONS sip:hotline@127.0.0.1:{port} SIP/2.0\n{peer.headers('OPTIONS', 1)}"
            )
            await peer.read()
        known = ssl.create_default_context(cafile=str(cert))
        known.load_cert_chain(cert, key)  # signed by the CA the server trusts (itself)
        peer = await connect(known, port)
        await peer.send(
            f"OPTIONS sip:hotline@127.0.0.1:{port} SIP/2.0\n{peer.headers('OPTIONS', 1)}"
        )
        [*_, final] = await peer.response_to("1 OPTIONS")
        assert final.startswith("SIP/2.0 200 ")
        peer.writer.close()
    finally:
        await server.stop()


class TlsPhone:
    """An agent phone on TLS that only records what reaches it: a handshake refused
    (and why), or the first request read after a good one."""

    def __init__(self, cert: Path, key: Path) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.5)
        self.port = self.server.getsockname()[1]
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.seen: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                raw, _ = self.server.accept()
            except TimeoutError:
                continue
            raw.settimeout(10)
            try:
                with self.context.wrap_socket(raw, server_side=True) as tls:
                    first = tls.recv(65536).decode(errors="replace")
                    # TLS 1.3: the client checks our certificate after our side of the
                    # handshake is done, so its refusal is a close before any request.
                    self.seen.append(first.split(" ")[0] if first else "closed")
            except (ssl.SSLError, OSError) as exc:
                self.seen.append(f"refused: {exc}")

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.server.close()


@pytest.mark.parametrize("trusted", [False, True], ids=["unknown-ca", "ca-file"])
async def test_outbound_tls_verifies_the_agent_phone(tmp_path: Path, trusted: bool) -> None:
    """A self-signed phone is refused under the default trust (the system's CAs) and
    reached once `tls_ca_file` names its certificate."""
    cert, key = self_signed(tmp_path)
    phone = TlsPhone(cert, key)
    more = {"tls_ca_file": str(cert)} if trusted else {}
    path = tls_config(tmp_path, cert, key, free_port(), **more)
    server = Server(f"sqlite+aiosqlite:///{tmp_path / 'cc.db'}", tmp_path)
    server.extra_env["CALLCENTER_CONFIG"] = str(path)
    await server.prepare()
    await server.set_agent_uri("alice", f"sip:alice@127.0.0.1:{phone.port};transport=tls")
    try:
        async with server.running():
            await server.set_state("alice", "available")
            call = await caller("caller.xml", server, tmp_path, talk_ms=20000).start()
            try:
                await eventually(lambda: _async(phone.seen), "a TLS connection to the phone")
                await asyncio.sleep(2)  # time for a retry that must not send the INVITE
            finally:
                await call.stop()
    finally:
        phone.close()
    if trusted:
        assert phone.seen[0] == "INVITE", phone.seen
    else:
        assert phone.seen[0] == "closed" or "unknown ca" in phone.seen[0], phone.seen
        assert "INVITE" not in phone.seen


async def _async(value: list[str]) -> list[str]:
    return value
