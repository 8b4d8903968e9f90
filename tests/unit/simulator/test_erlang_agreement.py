"""Without abandonment, Poisson arrivals at a steady load: the simulated desk is an M/M/N
queue, and its service level and ASA must agree with Erlang C over a long run.

Case: A = 10 Erlangs, 13 agents, exponential handle time, 80% within T. Erlang C gives
SL 0.7956, ASA 0.0951 AHT (17.1 s for AHT 180 s, T 20 s), occupancy 0.769.

Time is stretched tenfold (AHT 1800 s, T 200 s): Erlang C depends on T / AHT only, and
an exponential draw scaled by 10 is the same draw, so this is the AHT-180 desk. The
stretch keeps the run fast: the ACD keeps a day of statistics and scans it on every
arrival (its wait estimate), so a day holding 10x fewer calls costs 10x less.

Tolerances: over 30 seeds of this very run (20,000 calls each) the service level had a
mean of 0.795 and a standard deviation of 0.020 (extremes 0.745 and 0.832), the ASA a
mean of 17.3 s and a standard deviation of 3.0 s (extremes 12.8 and 26.4 s, a right
skew). +-0.07 and +-60% are beyond 3.4 standard deviations for any seed; the occupancy
(A / N) is much steadier.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from callcenter.planning.erlang import staffing_level
from callcenter.simulator import ArrivalProfile, DayPlan, Distribution, HandleTime, simulate
from callcenter.simulator.model import default_queue

STRETCH = 10.0
AHT = 180.0 * STRETCH
THRESHOLD = 20.0 * STRETCH
TRAFFIC, AGENTS, CALLS = 10.0, 13, 20_000


def test_no_abandonment_steady_load_agrees_with_erlang_c() -> None:
    per_interval = TRAFFIC * 900 / AHT
    intervals = round(CALLS / per_interval)
    plan = DayPlan(
        calls=CALLS,
        profile=ArrivalProfile.flat(intervals),
        handle_time=HandleTime(AHT, 1.0, Distribution.EXPONENTIAL),
        patience_seconds=None,
        staffing=AGENTS,
        answer_delay_seconds=0.0,
        queue=replace(default_queue(), service_level_seconds=THRESHOLD),
        seed=2024,
        measure_estimates=False,
    )
    theory = staffing_level(AGENTS, TRAFFIC, AHT, THRESHOLD)
    assert theory.service_level == pytest.approx(0.7956, abs=1e-4)
    assert theory.asa_seconds is not None

    day = simulate(plan).day

    assert day.abandoned == 0 and day.unfinished == 0
    assert abs(day.offered - CALLS) < 5 * CALLS**0.5
    assert day.service_level == pytest.approx(theory.service_level, abs=0.07)
    assert day.asa_seconds == pytest.approx(theory.asa_seconds, rel=0.6)
    assert day.occupancy == pytest.approx(theory.occupancy, abs=0.03)
    # The report's own Erlang C columns say the same as the theory.
    assert day.erlang_service_level == pytest.approx(theory.service_level)
    assert day.erlang_asa_seconds == pytest.approx(theory.asa_seconds)
