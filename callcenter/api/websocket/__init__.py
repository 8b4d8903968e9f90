"""The consoles' WebSocket protocol: the agent's softphone console (`/ws/agent`) and the
supervisor's live board (`/ws/supervisor`). See docs/websocket.md."""

from callcenter.api.websocket.control import (
    CallControl,
    CallControlError,
    CallNotFound,
    Monitoring,
    NotSupported,
    TransferTarget,
    WrapUpForm,
)
from callcenter.api.websocket.hub import HUB, Hub, WebSocketConfig
from callcenter.api.websocket.protocol import PROTOCOL_VERSION, Close
from callcenter.api.websocket.routes import add_routes, agent_socket, supervisor_socket

__all__ = [
    "HUB",
    "PROTOCOL_VERSION",
    "CallControl",
    "CallControlError",
    "CallNotFound",
    "Close",
    "Hub",
    "Monitoring",
    "NotSupported",
    "TransferTarget",
    "WebSocketConfig",
    "WrapUpForm",
    "add_routes",
    "agent_socket",
    "supervisor_socket",
]
