"""Operator endpoints, public by design: liveness for the orchestrator, metrics for Prometheus."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from callcenter.api.deps import DEPS


async def healthz(request: web.Request) -> web.Response:
    if request.app[DEPS].ready():
        return web.json_response({"status": "ok"})
    return web.json_response({"status": "starting"}, status=503)


async def metrics(request: web.Request) -> web.Response:
    # Collectors read memory only (no I/O), so generating inline does not stall the loop.
    body = generate_latest(request.app[DEPS].registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4})
