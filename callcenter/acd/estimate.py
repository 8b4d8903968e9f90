"""Estimated wait time (EWT) of a place in line, from the queue's live state.

Model: each staffed agent of the queue frees up at a known or expected moment (its
"release"), then serves one call every AHT (average handle time: talk plus wrap-up, over
the last hour, or the queue's default while it has none). The caller at position p is
answered at the p-th release, counting each agent's first release and every AHT after:

    EWT(p) = the p-th smallest of { r_i + k * AHT : agent i, k = 0, 1, 2, ... }

With n agents all releasing at r this is r + floor((p - 1) / n) * AHT, the familiar
"position over staffed agents times AHT", shifted by the soonest release.

Releases: available, 0; ringing, one AHT (it is about to take a call); talking, what
is left of one AHT since the answer (0 once over); wrap-up, what is left of it.
Calls of other queues competing for the same agents are not modelled; the error of the
estimates is measured on every answered call (`QueueStatistics.ewt_mae_seconds`).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable


def release_in(state_end: float | None, now: float) -> float:
    """Seconds until an expected end; 0 when it is already past or unknown."""
    return max(0.0, state_end - now) if state_end is not None else 0.0


def wait_for_position(position: int, releases: Iterable[float], aht: float) -> float | None:
    """EWT of the given position (1: next in line); None without a staffed agent."""
    if position < 1:
        raise ValueError(f"position {position} is not 1 or more")
    ordered = sorted(releases)
    if not ordered:
        return None
    step = max(aht, 0.0)
    if ordered[-1] - ordered[0] <= step:
        # The usual case (every release within one AHT of the soonest): round k of
        # releases is `ordered` shifted by k AHTs and never mixes with the next round,
        # so the p-th release is read off directly instead of walking p places.
        rounds, index = divmod(position - 1, len(ordered))
        return ordered[index] + rounds * step
    heap = ordered  # a sorted list is a heap
    for _ in range(position - 1):
        heapq.heapreplace(heap, heap[0] + step)
    return heap[0]
