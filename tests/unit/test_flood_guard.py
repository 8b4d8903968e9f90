from __future__ import annotations

import pytest

from callcenter.clock import ManualClock
from callcenter.softphone_bridge import flood
from callcenter.softphone_bridge.flood import FloodGuard


def guard(rate: float = 2.0, burst: int = 3) -> tuple[FloodGuard, ManualClock]:
    clock = ManualClock()
    return FloodGuard(rate, burst, clock.now), clock


def test_a_burst_passes_then_the_rate_applies() -> None:
    g, clock = guard()
    assert [g.allow("10.0.0.1") for _ in range(5)] == [True, True, True, False, False]
    clock.advance(0.5)  # one token back at 2 per second
    assert [g.allow("10.0.0.1") for _ in range(2)] == [True, False]
    clock.advance(10)  # refilled, but never beyond the burst
    assert [g.allow("10.0.0.1") for _ in range(4)] == [True, True, True, False]


def test_sources_have_their_own_buckets() -> None:
    g, _ = guard(burst=1)
    assert g.allow("10.0.0.1") and not g.allow("10.0.0.1")
    assert g.allow("10.0.0.2")


def test_refusals_do_not_cost_tokens() -> None:
    g, clock = guard(rate=1.0, burst=1)
    assert g.allow("a")
    for _ in range(100):
        assert not g.allow("a")
    clock.advance(1.0)
    assert g.allow("a")


def test_memory_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(flood, "MAX_SOURCES", 3)
    g, _ = guard(burst=1)
    for source in ("a", "b", "c", "d"):
        assert g.allow(source)
    assert g.allow("a")  # "a" was forgotten first, so it starts with a full bucket
    assert not g.allow("d")


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (-1, 1), (1, 0)])
def test_bad_parameters(rate: float, burst: int) -> None:
    with pytest.raises(ValueError):
        FloodGuard(rate, burst, lambda: 0.0)
