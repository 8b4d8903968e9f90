"""docker/: compose.yaml, the rendered files and the local cluster share docker/cluster.yaml.

These tests keep them from drifting apart: the files under docker/generated/ are what
`scripts/cluster.py render` makes of cluster.yaml, compose.yaml names the same nodes,
ports and addresses, every file it mounts exists, and Docker Compose and Kamailio accept
what they are given (each check skipped where its tool is not installed).
"""

from __future__ import annotations

import importlib.util
import ipaddress
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from callcenter.settings import load_settings
from tests.services import unavailable

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"


def cluster_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cluster_script", ROOT / "scripts" / "cluster.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def cluster() -> Any:
    return cluster_module().load_cluster(DOCKER / "cluster.yaml")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    return data


def test_rendered_files_are_up_to_date() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "cluster.py"), "render", "--check"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr


def test_compose_runs_the_nodes_of_the_cluster_description(
    cluster: Any, compose: dict[str, Any]
) -> None:
    services = compose["services"]
    names = [node.name for node in cluster.nodes]
    assert set(services) == {*names, "migrate", "kamailio", "redis", "postgres"} | {
        "prometheus",
        "grafana",
    }
    for index, node in enumerate(cluster.nodes):
        service = services[node.name]
        env = service["environment"]
        address = str(cluster.docker_address(index))
        assert env["CALLCENTER_SIP_HOST"] == address
        assert service["networks"]["callcenter"]["ipv4_address"] == address
        assert int(env["CALLCENTER_SIP_PORT"]) == node.sip_port
        assert int(env["CALLCENTER_HTTP_PORT"]) == node.http_port
        assert env["CALLCENTER_HTTP_PUBLIC_URL"] == f"http://localhost:{node.http_port}"
        assert int(env["CALLCENTER_SIP_RTP_PORT"]) == node.rtp_port
        assert int(env["CALLCENTER_SIP_RTP_PORT_RANGE"]) == node.rtp_port_range
        last = node.rtp_port + node.rtp_port_range - 1
        assert f"127.0.0.1:{node.http_port}:{node.http_port}/tcp" in service["ports"]
        assert f"{node.rtp_port}-{last}:{node.rtp_port}-{last}/udp" in service["ports"]
        assert env["CALLCENTER_CONFIG"] == "/app/cluster.yaml"
    kamailio = services["kamailio"]
    assert kamailio["networks"]["callcenter"]["ipv4_address"] == str(cluster.kamailio_address)
    port = cluster.kamailio_port
    assert f"{port}:{port}/udp" in kamailio["ports"]
    subnet = compose["networks"]["callcenter"]["ipam"]["config"][0]["subnet"]
    assert ipaddress.ip_network(subnet) == cluster.subnet
    assert cluster.kamailio_address in cluster.subnet


def test_only_sip_and_rtp_face_the_network(compose: dict[str, Any]) -> None:
    """Plain HTTP, Prometheus and Grafana are published on loopback only (a TLS proxy
    fronts them); SIP (Kamailio) and RTP are what other machines reach."""
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            if not port.endswith("/udp") and not port.startswith("127.0.0.1:"):
                assert name == "kamailio" and port.startswith("5060:"), (name, port)


def test_redis_needs_a_password_that_only_the_nodes_know(compose: dict[str, Any]) -> None:
    redis = compose["services"]["redis"]
    assert "--requirepass" in " ".join(redis["command"])
    assert "redis_password" in redis["secrets"]
    assert "redis_password" in " ".join(redis["healthcheck"]["test"])
    for name in ("node1", "node2"):
        node = compose["services"][name]
        assert "callcenter_redis_url" in node["secrets"]
        assert "CALLCENTER_REDIS_URL" not in node["environment"]  # only from the secret


def test_every_mounted_file_exists(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DOCKER / source).exists(), f"{name} mounts missing {source}"
        build = service.get("build")
        if build is not None:
            context = DOCKER / build["context"]
            assert (context / build.get("dockerfile", "Dockerfile")).exists(), name


def test_the_nodes_take_calls_from_kamailio_only(cluster: Any) -> None:
    settings = load_settings(DOCKER / "generated" / "callcenter.yaml", environ={})
    assert settings.sip.allows(str(cluster.kamailio_address))
    assert not settings.sip.allows(str(cluster.docker_address(0)))
    assert not settings.sip.allows("127.0.0.1")


def test_every_node_accepts_the_consoles_of_every_node(cluster: Any, compose: Any) -> None:
    """A browser agent's console on one node opens the call's audio on another."""
    settings = load_settings(DOCKER / "generated" / "callcenter.yaml", environ={})
    public = [
        s["environment"]["CALLCENTER_HTTP_PUBLIC_URL"]
        for s in compose["services"].values()
        if "CALLCENTER_HTTP_PUBLIC_URL" in s.get("environment", {})
    ]
    assert len(public) == len(cluster.nodes)
    assert set(public) <= set(settings.http.allowed_origins)


def test_the_local_nodes_accept_the_consoles_of_every_node(cluster: Any, tmp_path: Path) -> None:
    path = tmp_path / "callcenter.yaml"
    path.write_text(cluster_module().local_settings(cluster))
    origins = load_settings(path, environ={}).http.allowed_origins
    for node in cluster.nodes:
        assert f"http://127.0.0.1:{node.http_port}" in origins
        assert f"http://localhost:{node.http_port}" in origins


def test_the_dispatcher_list_names_every_node(cluster: Any) -> None:
    text = (DOCKER / "generated" / "dispatcher.list").read_text()
    lines = [line.split() for line in text.splitlines() if line and not line.startswith("#")]
    expected = [
        ["1", f"sip:{cluster.docker_address(i)}:{node.sip_port}", "0", "0", f"name={node.name}"]
        for i, node in enumerate(cluster.nodes)
    ]
    assert lines == expected
    prometheus = yaml.safe_load((DOCKER / "generated" / "prometheus.yml").read_text())
    targets = prometheus["scrape_configs"][0]["static_configs"][0]["targets"]
    assert targets == [f"{n.name}:{n.http_port}" for n in cluster.nodes]


def compose_command() -> list[str] | None:
    docker = shutil.which("docker")
    if docker is not None:
        probe = subprocess.run([docker, "compose", "version"], capture_output=True)
        if probe.returncode == 0:
            return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy is not None else None


def test_docker_compose_accepts_the_file() -> None:
    command = compose_command()
    if command is None:
        unavailable("`docker compose` or docker-compose (Debian package docker-compose)")
    done = subprocess.run(
        [*command, "-f", str(DOCKER / "compose.yaml"), "config", "--quiet"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def test_kamailio_accepts_the_rendered_configuration(tmp_path: Path) -> None:
    kamailio = shutil.which("kamailio") or (
        "/usr/sbin/kamailio" if Path("/usr/sbin/kamailio").exists() else None
    )
    if kamailio is None:
        unavailable("kamailio (Debian package kamailio)")
    cfg = (DOCKER / "generated" / "kamailio.cfg").read_text()
    shutil.copy(DOCKER / "generated" / "dispatcher.list", tmp_path / "dispatcher.list")
    cfg = cfg.replace("/etc/kamailio/dispatcher.list", str(tmp_path / "dispatcher.list"))
    (tmp_path / "kamailio.cfg").write_text(cfg)
    done = subprocess.run(
        [kamailio, "-c", "-f", str(tmp_path / "kamailio.cfg")], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-4000:]


def test_the_image_builds_in_two_stages_and_runs_unprivileged() -> None:
    text = (DOCKER / "Dockerfile").read_text()
    stages = [line.split()[-1] for line in text.splitlines() if line.startswith("FROM ")]
    assert stages == ["build", "runtime"]
    runtime = text.split("AS runtime", 1)[1]
    assert "scripts/build-pjsua2.sh" in text and "pip wheel" in text
    assert "callcenter prompts build" in runtime
    assert "USER callcenter" in runtime and "HEALTHCHECK" in runtime and "/healthz" in runtime
    for package in ("asterisk-core-sounds-en-wav", "asterisk-moh-opsound-wav", "espeak-ng"):
        assert package in runtime
    # No secret is baked in: none is set by ENV or ARG (the ENV block spans lines).
    settings = [
        line for line in text.splitlines() if not line.lstrip().startswith("#") and "=" in line
    ]
    for word in ("SECRET", "PASSWORD", "TOKEN"):
        assert not any(word in line.upper() for line in settings), word


def test_the_entrypoint_turns_secret_files_into_settings(tmp_path: Path) -> None:
    (tmp_path / "callcenter_auth_token_secret").write_text("s3cret")
    (tmp_path / "callcenter_database_url").write_text("postgresql+asyncpg://u:p@db/cc")
    (tmp_path / "postgres_password").write_text("not ours")
    env = {"PATH": "/usr/bin:/bin", "SECRETS_DIR": str(tmp_path)}
    env["CALLCENTER_DATABASE_URL"] = "sqlite+aiosqlite:///set.db"  # the environment wins
    done = subprocess.run(
        ["sh", str(DOCKER / "entrypoint.sh"), "env"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    lines = set(done.stdout.splitlines())
    assert "CALLCENTER_AUTH_TOKEN_SECRET=s3cret" in lines
    assert "CALLCENTER_DATABASE_URL=sqlite+aiosqlite:///set.db" in lines
    assert not any(line.startswith("POSTGRES") for line in lines)
