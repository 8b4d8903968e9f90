"""Domain errors of the ACD; the edges map them to replies (HTTP, WebSocket)."""


class AcdError(Exception):
    pass


class UnknownAgent(AcdError):
    def __init__(self, agent_id: str) -> None:
        super().__init__(f"unknown agent {agent_id!r}")


class UnknownQueue(AcdError):
    def __init__(self, queue: str) -> None:
        super().__init__(f"unknown queue {queue!r}")


class UnknownCall(AcdError):
    def __init__(self, call_id: str) -> None:
        super().__init__(f"unknown call {call_id!r}")


class InvalidTransition(AcdError):
    pass


class UnknownPauseReason(InvalidTransition):
    """A pause reason not in the configured list: the request is wrong, not the moment."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"unknown pause reason {reason!r}")


class InvalidSetting(AcdError, ValueError):
    """A value the ACD cannot work with: a skill level out of range, a bad saved state.

    Also a ValueError, so configuration code that validates with ValueError catches it.
    """
