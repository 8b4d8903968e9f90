"""The HTTP API: desk state and records for agent consoles, health and metrics for operators."""

from callcenter.api.app import build_app
from callcenter.api.deps import ApiDeps

__all__ = ["ApiDeps", "build_app"]
