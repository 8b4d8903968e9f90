#!/usr/bin/env python3
"""Kamailio in front of several `callcenter serve` nodes, from one cluster description.

    scripts/cluster.py render [--check]   docker/generated/ for docker/compose.yaml
    scripts/cluster.py secrets            docker/secrets/ (random, once) for compose.yaml
    scripts/cluster.py start [--nodes N]  a local cluster on loopback (`make cluster`)
    scripts/cluster.py start-node NAME    starts again one node of it that died
    scripts/cluster.py stop               ends it (`make cluster-stop`)
    scripts/cluster.py status

The description (docker/cluster.yaml, or --cluster FILE) names the nodes and their SIP,
HTTP and RTP ports, Kamailio's port and probe interval. Docker Compose and the local
cluster are both rendered from it, so they cannot drift apart. The local cluster keeps its
rendered files, logs and pid files under --dir (var/cluster/); its nodes share the
Redis and PostgreSQL of scripts/test-services.sh (127.0.0.1:6379 and :5432).
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCKER = ROOT / "docker"
DEFAULT_CLUSTER = DOCKER / "cluster.yaml"
GENERATED = DOCKER / "generated"
ALGORITHMS = {"round_robin": "4", "call_id_hash": "0"}
DEFAULT_DATABASE = "postgresql+asyncpg://postgres@127.0.0.1:5432/callcenter_cluster"
DEFAULT_REDIS = "redis://127.0.0.1:6379/1"
#: The host browsers reach the compose nodes' published HTTP ports on.
DOCKER_PUBLIC_HOST = "localhost"


@dataclass(frozen=True)
class Node:
    name: str
    sip_port: int
    http_port: int
    rtp_port: int
    rtp_port_range: int


@dataclass(frozen=True)
class Cluster:
    kamailio_port: int
    probe_interval: int
    algorithm: str
    nodes: list[Node]
    subnet: ipaddress.IPv4Network
    kamailio_address: ipaddress.IPv4Address

    def docker_address(self, index: int) -> ipaddress.IPv4Address:
        """Node i's fixed address on the compose network: after Kamailio's."""
        return self.kamailio_address + 1 + index


def load_cluster(path: Path) -> Cluster:
    data = yaml.safe_load(path.read_text())
    kam = data["kamailio"]
    nodes = [
        Node(
            name=str(n["name"]),
            sip_port=int(n["sip_port"]),
            http_port=int(n["http_port"]),
            rtp_port=int(n["rtp_port"]),
            rtp_port_range=int(n.get("rtp_port_range", 200)),
        )
        for n in data["nodes"]
    ]
    if not nodes:
        raise SystemExit(f"{path}: no nodes")
    if len({n.name for n in nodes}) != len(nodes):
        raise SystemExit(f"{path}: node names must differ")
    algorithm = str(kam.get("algorithm", "round_robin"))
    if algorithm not in ALGORITHMS:
        raise SystemExit(f"{path}: kamailio.algorithm must be one of {sorted(ALGORITHMS)}")
    docker = data.get("docker", {})
    return Cluster(
        kamailio_port=int(kam["sip_port"]),
        probe_interval=int(kam.get("probe_interval_seconds", 2)),
        algorithm=algorithm,
        nodes=nodes,
        subnet=ipaddress.IPv4Network(docker.get("subnet", "172.28.0.0/24")),
        kamailio_address=ipaddress.IPv4Address(docker.get("kamailio_address", "172.28.0.10")),
    )


def with_nodes(cluster: Cluster, count: int) -> Cluster:
    """The first `count` nodes, or more named and numbered after the last one."""
    nodes = list(cluster.nodes[:count])
    while len(nodes) < count:
        last = nodes[-1]
        nodes.append(
            Node(
                name=f"node{len(nodes) + 1}",
                sip_port=last.sip_port + 2,
                http_port=last.http_port + 1,
                rtp_port=last.rtp_port + last.rtp_port_range,
                rtp_port_range=last.rtp_port_range,
            )
        )
    return Cluster(**{**cluster.__dict__, "nodes": nodes})


# ----- rendering -----


def _fill(template: Path, values: dict[str, str]) -> str:
    text = template.read_text()
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    if "{{" in text:
        raise SystemExit(f"{template}: placeholder left unfilled")
    return text


def kamailio_cfg(cluster: Cluster, address: str, dispatcher_list: str) -> str:
    listen = "\n".join(
        f"listen={proto}:{address}:{cluster.kamailio_port}" for proto in ("udp", "tcp")
    )
    return _fill(
        DOCKER / "kamailio" / "kamailio.cfg.tmpl",
        {
            "listen": listen,
            "dispatcher_list": dispatcher_list,
            "probe_interval": str(cluster.probe_interval),
            "algorithm": ALGORITHMS[cluster.algorithm],
            "algorithm_name": cluster.algorithm.replace("_", " "),
        },
    )


def dispatcher_list(cluster: Cluster, addresses: list[str]) -> str:
    lines = [
        f"1 sip:{address}:{node.sip_port} 0 0 name={node.name}"
        for node, address in zip(cluster.nodes, addresses, strict=True)
    ]
    return _fill(DOCKER / "kamailio" / "dispatcher.list.tmpl", {"destinations": "\n".join(lines)})


def prometheus_yml(cluster: Cluster) -> str:
    targets = ", ".join(f'"{n.name}:{n.http_port}"' for n in cluster.nodes)
    return (
        "# Prometheus for docker/compose.yaml: scrapes every node of the cluster.\n"
        "# RENDERED by `scripts/cluster.py render` from docker/cluster.yaml.\n"
        "global:\n  scrape_interval: 15s\n  evaluation_interval: 15s\n\n"
        "rule_files:\n  - /etc/prometheus/alerts.yml  # config/prometheus/alerts.yml\n\n"
        "scrape_configs:\n"
        '  - job_name: callcenter  # the alerts select up{job="callcenter"}\n'
        "    metrics_path: /metrics\n"
        f"    static_configs:\n      - targets: [{targets}]\n"
    )


def public_url(node: Node, host: str) -> str:
    """The node's http.public_url: a browser agent's console, on whichever node, opens
    the audio of the calls this node holds there."""
    return f"http://{host}:{node.http_port}"


def with_console_origins(settings: dict[str, Any], cluster: Cluster, hosts: list[str]) -> None:
    """Every node's console may open every node's audio socket: each node accepts the
    origins of all (lists can't be env)."""
    origins = list(settings["http"].get("allowed_origins") or [])
    for node in cluster.nodes:
        for host in hosts:
            if public_url(node, host) not in origins:
                origins.append(public_url(node, host))
    settings["http"]["allowed_origins"] = origins


def node_settings(cluster: Cluster) -> str:
    """config/callcenter.yaml with Kamailio's address as the only trunk and the nodes'
    consoles as allowed origins (lists can't be env)."""
    settings: dict[str, Any] = yaml.safe_load((ROOT / "config" / "callcenter.yaml").read_text())
    settings["sip"]["trunks"] = [
        {"name": "kamailio", "networks": [f"{cluster.kamailio_address}/32"]}
    ]
    with_console_origins(settings, cluster, [DOCKER_PUBLIC_HOST])
    header = (
        "# Settings of the nodes of docker/compose.yaml: config/callcenter.yaml with\n"
        "# Kamailio's address as the only SIP trunk and every node's console origin\n"
        "# allowed on every node. Per-node values and secrets come from the environment\n"
        "# (compose.yaml, CALLCENTER_*).\n"
        "# RENDERED by `scripts/cluster.py render` from docker/cluster.yaml: do not edit.\n"
    )
    return header + yaml.safe_dump(settings, sort_keys=False)


def local_settings(cluster: Cluster) -> str:
    """config/callcenter.yaml with every local node's console origin allowed."""
    settings: dict[str, Any] = yaml.safe_load((ROOT / "config" / "callcenter.yaml").read_text())
    with_console_origins(settings, cluster, ["127.0.0.1", "localhost"])
    return yaml.safe_dump(settings, sort_keys=False)


def docker_files(cluster: Cluster) -> dict[Path, str]:
    addresses = [str(cluster.docker_address(i)) for i in range(len(cluster.nodes))]
    return {
        GENERATED / "kamailio.cfg": kamailio_cfg(
            cluster, str(cluster.kamailio_address), "/etc/kamailio/dispatcher.list"
        ),
        GENERATED / "dispatcher.list": dispatcher_list(cluster, addresses),
        GENERATED / "prometheus.yml": prometheus_yml(cluster),
        GENERATED / "callcenter.yaml": node_settings(cluster),
    }


def render(args: argparse.Namespace) -> int:
    cluster = load_cluster(args.cluster)
    stale = []
    for path, text in docker_files(cluster).items():
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(path)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"rendered {path.relative_to(ROOT)}")
    if stale:
        names = ", ".join(str(p.relative_to(ROOT)) for p in stale)
        print(f"out of date: {names} (run scripts/cluster.py render)", file=sys.stderr)
        return 1
    return 0


def make_secrets(args: argparse.Namespace) -> int:
    """Random secrets for docker/compose.yaml; existing files are kept."""
    directory = DOCKER / "secrets"
    directory.mkdir(mode=0o700, exist_ok=True)
    for name in ("postgres_password", "redis_password"):
        if not (directory / name).exists():
            (directory / name).write_text(secrets.token_urlsafe(24))
    password = (directory / "postgres_password").read_text().strip()
    redis_password = (directory / "redis_password").read_text().strip()
    wanted = {
        "callcenter_database_url": (
            f"postgresql+asyncpg://callcenter:{password}@postgres:5432/callcenter"
        ),
        "callcenter_redis_url": f"redis://:{redis_password}@redis:6379/0",
        "callcenter_auth_token_secret": secrets.token_hex(32),
        "grafana_admin_password": secrets.token_urlsafe(16),
    }
    for name, value in wanted.items():
        path = directory / name
        if not path.exists():
            path.write_text(value)
    for path in directory.iterdir():
        path.chmod(0o644)  # read by the containers' non-root users
    print(f"secrets in {directory.relative_to(ROOT)}/ (not committed)")
    return 0


# ----- the local cluster -----


def kamailio_binary() -> str:
    found = shutil.which("kamailio") or next(
        (p for p in ("/usr/sbin/kamailio", "/usr/local/sbin/kamailio") if Path(p).exists()), None
    )
    if found is None:
        raise SystemExit("kamailio is not installed (Debian package kamailio; make cluster)")
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _pids(directory: Path) -> dict[str, int]:
    found = {}
    for path in sorted(directory.glob("*.pid")):
        try:
            found[path.stem] = int(path.read_text().strip())
        except ValueError:
            continue
    return found


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as resp:
            return int(resp.status) == 200
    except (urllib.error.URLError, OSError):
        return False


def sip_options(port: int, host: str = "127.0.0.1", timeout: float = 1.0) -> str | None:
    """Send one OPTIONS over UDP; the status line of the answer, or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(timeout)
        local = sock.getsockname()[1]
        branch = "z9hG4bK" + uuid.uuid4().hex
        msg = (
            f"OPTIONS sip:{host}:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{local};branch={branch};rport\r\n"
            "Max-Forwards: 70\r\n"
            f"From: <sip:probe@127.0.0.1:{local}>;tag={uuid.uuid4().hex[:8]}\r\n"
            f"To: <sip:{host}:{port}>\r\n"
            f"Call-ID: {uuid.uuid4().hex}\r\n"
            "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
        )
        sock.sendto(msg.encode(), (host, port))
        try:
            data, _ = sock.recvfrom(65535)
        except OSError:
            return None
        return data.split(b"\r\n", 1)[0].decode(errors="replace")


def _busy_ports(cluster: Cluster) -> list[str]:
    """The cluster's loopback ports something else already listens on."""
    wanted = [("kamailio", cluster.kamailio_port, socket.SOCK_DGRAM)]
    wanted.append(("kamailio", cluster.kamailio_port, socket.SOCK_STREAM))
    for node in cluster.nodes:
        wanted += [
            (node.name, node.sip_port, socket.SOCK_DGRAM),
            (node.name, node.sip_port, socket.SOCK_STREAM),
            (node.name, node.http_port, socket.SOCK_STREAM),
        ]
    busy = []
    for name, port, kind in wanted:
        with socket.socket(socket.AF_INET, kind) as sock:
            if kind == socket.SOCK_STREAM:  # a listener counts, TIME_WAIT does not
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                proto = "udp" if kind == socket.SOCK_DGRAM else "tcp"
                busy.append(f"{name} {proto}/{port}")
    return busy


def _ensure_database(url: str) -> None:
    """Create the PostgreSQL database of `url` if it does not exist (sqlite: nothing)."""
    if not url.startswith("postgresql"):
        return
    import asyncio

    import asyncpg  # type: ignore[import-untyped]
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    name = parsed.database

    async def create() -> None:
        conn = await asyncpg.connect(
            host=parsed.host or "127.0.0.1",
            port=parsed.port or 5432,
            user=parsed.username or "postgres",
            password=parsed.password,
            database="postgres",
        )
        try:
            exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
            if not exists:
                await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(create())


def _callcenter(args: list[str], env: dict[str, str], cwd: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "callcenter", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"callcenter {' '.join(args)} failed:\n{done.stderr}")


def start(args: argparse.Namespace) -> int:
    cluster = load_cluster(args.cluster)
    if args.nodes is not None:
        cluster = with_nodes(cluster, args.nodes)
    directory: Path = args.dir.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    running = {name: pid for name, pid in _pids(directory).items() if _alive(pid)}
    if running:
        raise SystemExit(f"already running in {directory}: {running} (scripts/cluster.py stop)")
    kamailio = kamailio_binary()
    busy = _busy_ports(cluster)
    if busy:
        raise SystemExit(
            f"ports in use: {', '.join(busy)} (another cluster? Debian's kamailio service on"
            " 5060? stop it: systemctl disable --now kamailio)"
        )

    # Kamailio's configuration, for loopback.
    ds_list = directory / "dispatcher.list"
    ds_list.write_text(dispatcher_list(cluster, ["127.0.0.1"] * len(cluster.nodes)))
    cfg = directory / "kamailio.cfg"
    cfg.write_text(kamailio_cfg(cluster, "127.0.0.1", str(ds_list)))
    check = subprocess.run([kamailio, "-c", "-f", str(cfg)], capture_output=True, text=True)
    if check.returncode != 0:
        raise SystemExit(f"kamailio rejects {cfg}:\n{check.stderr[-4000:]}")

    (directory / "callcenter.yaml").write_text(local_settings(cluster))
    base = _shared_env(args, directory)
    _ensure_database(base["CALLCENTER_DATABASE_URL"])
    _callcenter(["db", "upgrade"], base, ROOT)
    if args.demo:
        _callcenter(["demo", "load"], base, ROOT)

    started: list[subprocess.Popen[bytes]] = []
    try:
        for node in cluster.nodes:
            started.append(_spawn_node(node, base, directory))
        for node, proc in zip(cluster.nodes, started, strict=True):
            _wait_healthy(node, proc, directory, args.timeout)

        log = (directory / "kamailio.log").open("ab")
        kam = subprocess.Popen(
            [kamailio, "-DD", "-E", "-f", str(cfg), "-Y", str(directory)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        started.append(kam)
        (directory / "kamailio.pid").write_text(f"{kam.pid}\n")
        deadline = time.monotonic() + args.timeout
        while kam.poll() is not None or sip_options(cluster.kamailio_port) is None:
            if kam.poll() is not None or time.monotonic() > deadline:
                tail = (directory / "kamailio.log").read_text(errors="replace")[-3000:]
                raise SystemExit(f"kamailio did not start:\n{tail}")
        print(f"kamailio: SIP 127.0.0.1:{cluster.kamailio_port} -> {len(cluster.nodes)} nodes")
    except BaseException:
        for proc in started:
            if proc.poll() is None:
                proc.kill()
        for path in directory.glob("*.pid"):
            path.unlink()
        raise
    return 0


def start_node(args: argparse.Namespace) -> int:
    """One node of a running local cluster again, e.g. after it was killed: a new process
    (a new node id) on the node's ports; Kamailio sends it calls once a probe answers."""
    cluster = load_cluster(args.cluster)
    if args.nodes is not None:
        cluster = with_nodes(cluster, args.nodes)
    directory: Path = args.dir.resolve()
    node = next((n for n in cluster.nodes if n.name == args.name), None)
    if node is None:
        names = ", ".join(n.name for n in cluster.nodes)
        raise SystemExit(f"no node {args.name} in {args.cluster} (nodes: {names})")
    pid = _pids(directory).get(node.name)
    if pid is not None and _alive(pid):
        raise SystemExit(f"{node.name} is running (pid {pid})")
    if not (directory / "token_secret").exists():
        raise SystemExit(f"no local cluster in {directory} (scripts/cluster.py start)")
    proc = _spawn_node(node, _shared_env(args, directory), directory)
    try:
        _wait_healthy(node, proc, directory, args.timeout)
    except BaseException:
        proc.kill()
        (directory / f"{node.name}.pid").unlink(missing_ok=True)
        raise
    return 0


def _shared_env(args: argparse.Namespace, directory: Path) -> dict[str, str]:
    """The nodes' shared environment: CALLCENTER_* of ours, then the cluster's."""
    secret_file = directory / "token_secret"
    if not secret_file.exists():
        secret_file.write_text(secrets.token_hex(32))
    base = dict(os.environ)
    for name, given, default in (
        ("CALLCENTER_DATABASE_URL", args.database_url, DEFAULT_DATABASE),
        ("CALLCENTER_REDIS_URL", args.redis_url, DEFAULT_REDIS),
        ("CALLCENTER_REDIS_KEY_PREFIX", args.redis_key_prefix, "callcenter:cluster"),
    ):
        if given:
            base[name] = given  # an option beats the environment, which beats the default
        else:
            base.setdefault(name, default)
    base.setdefault("CALLCENTER_AUTH_TOKEN_SECRET", secret_file.read_text().strip())
    base.setdefault("CALLCENTER_PROMPTS_DIRECTORY", str(ROOT / "var" / "prompts"))
    local = directory / "callcenter.yaml"  # config/callcenter.yaml with the nodes' origins
    config = local if local.exists() else ROOT / "config" / "callcenter.yaml"
    base.setdefault("CALLCENTER_CONFIG", str(config))
    return base


def _spawn_node(node: Node, base: dict[str, str], directory: Path) -> subprocess.Popen[bytes]:
    env = dict(base)
    env.update(
        CALLCENTER_SIP_HOST="127.0.0.1",
        CALLCENTER_SIP_PORT=str(node.sip_port),
        CALLCENTER_SIP_RTP_PORT=str(node.rtp_port),
        CALLCENTER_SIP_RTP_PORT_RANGE=str(node.rtp_port_range),
        CALLCENTER_HTTP_HOST="127.0.0.1",
        CALLCENTER_HTTP_PORT=str(node.http_port),
        CALLCENTER_HTTP_PUBLIC_URL=public_url(node, "127.0.0.1"),
    )
    log = (directory / f"{node.name}.log").open("ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "callcenter", "serve"],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    (directory / f"{node.name}.pid").write_text(f"{proc.pid}\n")
    return proc


def _wait_healthy(
    node: Node, proc: subprocess.Popen[bytes], directory: Path, timeout: float
) -> None:
    url = f"http://127.0.0.1:{node.http_port}/healthz"
    deadline = time.monotonic() + timeout
    while not _healthy(url):
        if proc.poll() is not None or time.monotonic() > deadline:
            tail = (directory / f"{node.name}.log").read_text(errors="replace")[-3000:]
            raise SystemExit(f"{node.name} did not start:\n{tail}")
        time.sleep(0.2)
    print(f"{node.name}: SIP 127.0.0.1:{node.sip_port}, HTTP {url[:-8]}")


def stop(args: argparse.Namespace) -> int:
    directory: Path = args.dir.resolve()
    pids = _pids(directory)
    # Kamailio first: no new calls reach a node that is going away.
    order = sorted(pids, key=lambda name: name != "kamailio")
    for name in order:
        pid = pids[name]
        if _alive(pid):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + args.timeout
        while _alive(pid) and time.monotonic() < deadline:
            _reap(pid)
            time.sleep(0.1)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
        _reap(pid)
        (directory / f"{name}.pid").unlink(missing_ok=True)
        print(f"stopped {name} ({pid})")
    return 0


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def status(args: argparse.Namespace) -> int:
    pids = _pids(args.dir.resolve())
    if not pids:
        print("no cluster running")
        return 1
    for name, pid in pids.items():
        print(f"{name}: pid {pid} {'running' if _alive(pid) else 'DEAD'}")
    return 0 if all(_alive(p) for p in pids.values()) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--cluster", type=Path, default=DEFAULT_CLUSTER, help="cluster description")
    parser.add_argument("--dir", type=Path, default=ROOT / "var" / "cluster", help="local state")
    parser.add_argument("--timeout", type=float, default=30.0)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("render", help="render docker/generated/ from the cluster description")
    p.add_argument("--check", action="store_true", help="only check they are up to date")
    p.set_defaults(run=render)
    sub.add_parser("secrets", help="random secrets for compose.yaml").set_defaults(run=make_secrets)
    p = sub.add_parser("start", help="start Kamailio and the nodes on loopback")
    p.add_argument("--nodes", type=int, default=None, help="how many nodes (default: all)")
    p.add_argument("--database-url", help=f"default: $CALLCENTER_DATABASE_URL, {DEFAULT_DATABASE}")
    p.add_argument("--redis-url", help=f"default: $CALLCENTER_REDIS_URL, {DEFAULT_REDIS}")
    p.add_argument("--redis-key-prefix", help="default: callcenter:cluster")
    p.add_argument("--demo", action="store_true", help="load the demo data (callcenter demo load)")
    p.set_defaults(run=start)
    p = sub.add_parser("start-node", help="start one node of the running cluster again")
    p.add_argument("name", help="the node's name in the description, e.g. node2")
    p.add_argument("--nodes", type=int, default=None, help="as given to start")
    p.add_argument("--database-url", help="as given to start")
    p.add_argument("--redis-url", help="as given to start")
    p.add_argument("--redis-key-prefix", help="as given to start")
    p.set_defaults(run=start_node)
    sub.add_parser("stop", help="stop the local cluster").set_defaults(run=stop)
    sub.add_parser("status", help="show the local cluster's processes").set_defaults(run=status)
    args = parser.parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
