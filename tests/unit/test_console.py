"""The consoles' pages may reach the cluster's audio sockets, and nothing else."""

from __future__ import annotations

from callcenter.api.websocket.audio import audio_ws_url
from callcenter.console import CONTENT_SECURITY_POLICY, content_security_policy


def test_a_page_connects_to_its_own_origin_and_the_peers_audio_sockets_only() -> None:
    assert "connect-src 'self';" in CONTENT_SECURITY_POLICY
    peers = {audio_ws_url("http://node2:8082"), audio_ws_url("https://node1.example.com/")}
    policy = content_security_policy(peers)
    connect = next(d for d in policy.split("; ") if d.startswith("connect-src "))
    assert connect.split() == [
        "connect-src",
        "'self'",
        "ws://node2:8082/ws/agent/audio",
        "wss://node1.example.com/ws/agent/audio",
    ]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
