"""The supervisor board's queue figures: rolling windows and the day since local midnight."""

from __future__ import annotations

from datetime import UTC, datetime

from callcenter.acd.acd import Acd
from callcenter.acd.model import AgentState, QueueSettings
from callcenter.api.websocket.views import queue_item
from callcenter.clock import ManualClock

#: 23:50 on 27 November in UTC+8 (Asia/Shanghai): 15:50 UTC.
LATE = datetime(2026, 11, 27, 15, 50, tzinfo=UTC).timestamp()


def answered_call(acd: Acd, clock: ManualClock, call_id: str, wait: float) -> None:
    acd.enqueue(call_id, "helpdesk", "+8613800000000")
    clock.advance(wait)
    acd.answered(call_id)
    acd.hangup(call_id)
    acd.set_agent_state("alice", AgentState.AVAILABLE)


def test_today_starts_at_local_midnight_and_the_rolling_windows_do_not() -> None:
    clock = ManualClock(LATE)
    acd = Acd(
        [QueueSettings("helpdesk", service_level_seconds=20.0)],
        clock,
        lambda event: None,
        utc_offset_seconds=8 * 3600,
    )
    acd.add_agent("alice", ["helpdesk"])
    acd.set_agent_state("alice", AgentState.AVAILABLE)
    answered_call(acd, clock, "late-yesterday", wait=60)  # 23:51 local: misses 20 s
    clock.advance(15 * 60)  # 00:06 local, a new day
    answered_call(acd, clock, "after-midnight", wait=5)

    windows = queue_item(acd, "helpdesk", clock.now())["windows"]
    assert (windows["today"]["answered"], windows["today"]["service_level"]) == (1, 1.0)
    assert (windows["24h"]["answered"], windows["24h"]["service_level"]) == (2, 0.5)
    assert windows["15m"]["answered"] == 1
