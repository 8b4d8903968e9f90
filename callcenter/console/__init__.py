"""The consoles' pages: the agent's softphone console and the supervisor's queue board.

Plain HTML, CSS and JavaScript from `static/`, served by the API's own aiohttp server
under `/console/`. The files carry no data, so they are public; everything they show
comes over the token-checked REST API and WebSockets. Only the files present in
`static/` when the process starts are served (no path is ever joined from the request),
and every reply carries a strict Content-Security-Policy: scripts, styles and
connections from this origin only, nothing inline, no framing; in a cluster, the call
audio sockets of the other processes too (`PEER_AUDIO`: a browser agent's audio is on
the process holding the call's legs).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from pathlib import Path

from aiohttp import web

STATIC = Path(__file__).resolve().parent / "static"
PREFIX = "/console"

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}


def content_security_policy(peer_audio: Collection[str] = ()) -> str:
    """`'self'` in connect-src also covers ws:// and wss:// of the page's own host and
    port; `peer_audio` adds the other processes' audio sockets (whole URLs)."""
    connect = " ".join(["'self'", *sorted(peer_audio)])
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self'",
            f"connect-src {connect}",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


CONTENT_SECURITY_POLICY = content_security_policy()

#: The audio socket URLs of the cluster's processes as this one knows them now.
PEER_AUDIO: web.AppKey[Callable[[], Collection[str]]] = web.AppKey("console_peer_audio")

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}

#: `/console/` is the agent's console; the board is `/console/board.html`.
INDEX = "agent.html"


def _files() -> dict[str, Path]:
    return {
        p.name: p for p in sorted(STATIC.iterdir()) if p.is_file() and p.suffix in CONTENT_TYPES
    }


FILES = _files()


async def console_file(request: web.Request) -> web.StreamResponse:
    """One file of `static/` by its name; `/console/` is the agent's page."""
    name = request.match_info.get("name") or INDEX
    path = FILES.get(name)
    if path is None:
        raise web.HTTPNotFound()
    peers = request.app.get(PEER_AUDIO)
    headers = {
        **HEADERS,
        "Content-Security-Policy": content_security_policy(peers() if peers else ()),
        "Content-Type": CONTENT_TYPES[path.suffix],
    }
    return web.FileResponse(path, headers=headers)


async def console_redirect(request: web.Request) -> web.StreamResponse:
    raise web.HTTPPermanentRedirect(PREFIX + "/")


#: Handlers the bearer gate must let through (static files, no data).
PUBLIC = frozenset({console_file, console_redirect})


def add_routes(app: web.Application) -> None:
    app.router.add_get(PREFIX, console_redirect)
    app.router.add_get(PREFIX + "/", console_file)
    app.router.add_get(PREFIX + "/{name:[A-Za-z0-9_-]+\\.[a-z]+}", console_file)
