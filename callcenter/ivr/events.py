"""What leaves the IVR: how each caller's time in it ended."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class IvrOutcome(enum.StrEnum):
    QUEUED = "queued"  # the flow handed the call to a queue
    TRANSFERRED = "transferred"  # the flow asked for a transfer
    FLOW_HANGUP = "flow_hangup"  # the flow ended the call (a message, a closed desk)
    CALLER_HANGUP = "caller_hangup"  # the caller hung up inside the IVR


@dataclass(frozen=True)
class IvrFinished:
    at: float
    call_id: str
    outcome: IvrOutcome
