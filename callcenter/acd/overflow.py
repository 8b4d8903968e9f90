"""Queue limits: when a call may not join or stay, and where it goes instead.

Rules (each queue's settings):

- `max_waiting`: a call arriving when that many live callers are already in line (waiting
  or ringing; queued callbacks do not hold a line) overflows at once;
- `join_empty: overflow`: a call arriving when no agent of the queue is logged in (every
  member logged out, or no member) overflows at once; paused agents count as logged in;
- `max_wait_seconds`: a caller waiting that long in the queue overflows at the next tick;
  a ringing call is left to ring (it overflows if it comes back to wait), and a queued
  callback never overflows.

The target is the queue's `overflow_target`, or, without one, leaving the ACD (as a
ticket-only call). A call overflowed into another queue joins it whatever that queue's
own limits, so overflow chains cannot loop at arrival. A callback overflow needs a number
to call: an anonymous caller is sent out as ticket-only instead.
"""

from __future__ import annotations

from collections.abc import Callable

from callcenter.acd.model import (
    LEAVE_QUEUE,
    JoinEmpty,
    OverflowCause,
    OverflowKind,
    OverflowTarget,
    QueueSettings,
)

#: Caller ids that cannot be called back or recognised on a redial.
ANONYMOUS = frozenset({"", "anonymous", "unknown", "restricted", "unavailable"})


def callable_number(number: str) -> bool:
    return number.strip().lower() not in ANONYMOUS


def cause_at_join(
    settings: QueueSettings, live_in_line: Callable[[], int], logged_in: Callable[[], int]
) -> OverflowCause | None:
    """Why a call arriving now may not join the queue; None when it may.

    The two counts are functions, called only when a rule of the queue needs them:
    counting the callers in line costs a pass over every call."""
    if settings.join_empty is JoinEmpty.OVERFLOW and logged_in() == 0:
        return OverflowCause.JOIN_EMPTY
    if settings.max_waiting is not None and live_in_line() >= settings.max_waiting:
        return OverflowCause.MAX_WAITING
    return None


def overdue(settings: QueueSettings, waited: float) -> bool:
    return settings.max_wait_seconds is not None and waited >= settings.max_wait_seconds


def target_for(settings: QueueSettings, caller: str) -> OverflowTarget:
    target = settings.overflow
    if target.kind is OverflowKind.CALLBACK and not callable_number(caller):
        return LEAVE_QUEUE
    return target
