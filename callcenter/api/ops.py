"""Operator endpoints, public by design: liveness and readiness for the orchestrator and
the load balancer, metrics for Prometheus."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from callcenter.api.availability import RETRY_AFTER_SECONDS
from callcenter.api.deps import DEPS


async def healthz(request: web.Request) -> web.Response:
    if request.app[DEPS].ready():
        return web.json_response({"status": "ok"})
    return web.json_response({"status": "starting"}, status=503)


async def readyz(request: web.Request) -> web.Response:
    """Ready to serve: started, and every dependency answers; else 503 naming those that
    fail, for a load balancer to route around this process."""
    deps = request.app[DEPS]
    checks = {
        c.name: {"ok": c.ok, **({"detail": c.detail} if c.detail else {})}
        for c in deps.health.checks
    }
    failing = sorted(c.name for c in deps.health.failures)
    if not deps.ready():
        failing.insert(0, "starting")
    if failing:
        return web.json_response(
            {"status": "not_ready", "failing": failing, "checks": checks},
            status=503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    return web.json_response({"status": "ready", "checks": checks})


async def metrics(request: web.Request) -> web.Response:
    # Collectors read memory only (no I/O), so generating inline does not stall the loop.
    body = generate_latest(request.app[DEPS].registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4})
