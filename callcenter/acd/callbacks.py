"""Queued callbacks (virtual hold): the retry rule and the entries the edge persists.

A callback is a call that keeps its place in line without a caller on hold. When it
reaches an agent, the agent's phone rings first (CallOffered with the number); once the
agent answers, the edge dials the number (CallbackDialing) and reports the outcome. A
failed dial is tried again after `callback_retry_seconds`, at most `callback_retries`
more times, each time at its old place (it was at the head of the line when it reached
the agent, so it is at the head again, behind only calls of higher priority). After the
last try it is dropped. Callbacks never count as abandons.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from callcenter.acd.model import AcdCall, CallPhase, QueueSettings
from callcenter.acd.persistence import place_in_line


def retry_at(settings: QueueSettings, attempts: int, now: float) -> float | None:
    """When to try again after `attempts` failed dials; None: that was the last try."""
    if attempts <= settings.callback_retries:
        return now + settings.callback_retry_seconds
    return None


def is_pending(call: AcdCall) -> bool:
    """A callback that has not reached its callee yet (waiting, ringing an agent, dialling)."""
    return call.callback is not None and (call.phase is not CallPhase.CONNECTED or call.dialing)


def to_entry(call: AcdCall) -> dict[str, Any]:
    """A pending callback as the edge stores it; an attempt in progress is not counted."""
    assert call.callback is not None
    attempts = call.callback_attempts - 1 if call.dialing else call.callback_attempts
    return {
        "call_id": call.call_id,
        "queue": call.queue,
        "number": call.callback,
        "caller": call.caller,
        "priority": call.priority,
        "enqueued_at": call.enqueued_at,
        "queued_at": call.queued_at,
        "arrival": call.arrival,
        "skills": dict(call.skills),
        "attempts": attempts,
        "not_before": call.not_before,
    }


def from_entry(data: Mapping[str, Any]) -> AcdCall:
    """A stored callback as a call waiting in line (it raises on a malformed entry)."""
    number = str(data["number"])
    if not number:
        raise ValueError("a callback needs a number")
    not_before = data["not_before"]
    return AcdCall(
        **place_in_line(data),
        callback=number,
        callback_attempts=int(data["attempts"]),
        not_before=None if not_before is None else float(not_before),
    )
