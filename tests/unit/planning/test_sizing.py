"""The source's rules of thumb on its own case study: 2,600 PCs and 800 printers."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from callcenter.planning.erlang import InvalidInput, Workload, required_agents
from callcenter.planning.sizing import (
    FLAT_ARRIVAL,
    Client,
    Headcount,
    PhoneService,
    RulesOfThumb,
    plan_desk,
    plan_view,
)

CASE_STUDY = Client(pcs=2600, printers=800)


def test_rules_of_thumb_are_the_sources_table() -> None:
    rules = RulesOfThumb()
    assert rules.requests_per_pc_per_month == 1.6
    assert rules.calls_per_phone_agent_per_day == 25
    assert rules.solved_on_phone == 0.6
    assert rules.needing_on_site == 0.4
    assert rules.on_site_requests_per_engineer_per_day == 8
    assert rules.pcs_serviced_per_engineer_per_day == 10
    assert rules.peripherals_serviced_per_engineer_per_day == 6
    assert rules.pc_maintenance_months == (3, 6)
    assert rules.peripheral_maintenance_months == (6, 12)
    with pytest.raises(dataclasses.FrozenInstanceError):
        rules.requests_per_pc_per_month = 2  # type: ignore[misc]


def test_case_study_requests() -> None:
    plan = plan_desk(CASE_STUDY)
    assert plan.requests_per_month == pytest.approx(4160)  # 1.6 x 2600
    assert plan.requests_per_day == pytest.approx(4160 / 21)  # 198.1
    assert plan.solved_on_phone_per_day == pytest.approx(4160 / 21 * 0.6)
    assert plan.on_site_requests_per_day == pytest.approx(4160 / 21 * 0.4)


def test_case_study_staff_by_rule_of_thumb() -> None:
    plan = plan_desk(CASE_STUDY)
    # 198.1 calls a day / 25 per agent = 7.92 agents.
    assert plan.phone_agents_rule_of_thumb.fte == pytest.approx(7.9238, abs=1e-4)
    assert plan.phone_agents_rule_of_thumb.people == 8
    # 79.2 on-site requests a day / 8 per engineer = 9.9 engineers.
    assert plan.on_site_engineers.fte == pytest.approx(9.9048, abs=1e-4)
    assert plan.on_site_engineers.people == 10
    # Every 6 months: 2600 / 126 = 20.6 PCs a day / 10; every 12: 800 / 252 = 3.2 printers / 6.
    assert plan.pcs_serviced_per_day == pytest.approx(2600 / 126)
    assert plan.peripherals_serviced_per_day == pytest.approx(800 / 252)
    assert plan.maintenance_engineers.fte == pytest.approx(2600 / 1260 + 800 / 1512)
    assert plan.maintenance_engineers.people == 3


def test_case_study_phones_by_erlang_c_over_a_flat_day() -> None:
    plan = plan_desk(CASE_STUDY)
    # 22.0 calls an hour of 6 minutes each: 2.2 Erlangs; 90% within 20 s takes 5 agents.
    assert plan.phones.workload.traffic_erlangs == pytest.approx(4160 / 21 / 9 * 0.1)
    assert plan.phones.agents == 5
    assert plan.phones.level.service_level >= 0.9
    assert plan.phones.scheduled_agents == 8  # 5 / (1 - 0.3) = 7.1
    # The whole day as one interval carries the same traffic, so it needs the same agents.
    whole_day = Workload(4160 / 21, 9 * 60, 360, 20, 0.9, shrinkage=0.3)
    assert required_agents(whole_day).agents == plan.phones.agents
    assert FLAT_ARRIVAL in plan.notes


def test_busier_service_window_needs_more_agents() -> None:
    flat = plan_desk(CASE_STUDY)
    squeezed = plan_desk(dataclasses.replace(CASE_STUDY, service_hours=3))
    assert squeezed.phones.agents > flat.phones.agents
    # The rule of thumb counts calls a day, whatever the hours.
    assert squeezed.phone_agents_rule_of_thumb == flat.phone_agents_rule_of_thumb


def test_phone_service_parameters_reach_erlang_c() -> None:
    strict = plan_desk(CASE_STUDY, PhoneService(target=0.99, answer_within_seconds=10))
    assert strict.phones.agents > plan_desk(CASE_STUDY).phones.agents
    no_shrinkage = plan_desk(CASE_STUDY, PhoneService(shrinkage=0.0))
    assert no_shrinkage.phones.scheduled_agents == no_shrinkage.phones.agents
    capped = plan_desk(CASE_STUDY, PhoneService(max_occupancy=0.5))
    assert capped.phones.agents == 5  # 2.2 Erlangs at most 50% busy


def test_changed_rules_change_the_plan() -> None:
    rules = RulesOfThumb(
        requests_per_pc_per_month=2.0,
        calls_per_phone_agent_per_day=20,
        needing_on_site=0.5,
        on_site_requests_per_engineer_per_day=5,
        pcs_serviced_per_engineer_per_day=5,
        peripherals_serviced_per_engineer_per_day=4,
    )
    plan = plan_desk(CASE_STUDY, rules=rules)
    assert plan.requests_per_month == pytest.approx(5200)
    assert plan.phone_agents_rule_of_thumb.fte == pytest.approx(5200 / 21 / 20)
    assert plan.on_site_engineers.fte == pytest.approx(5200 / 21 * 0.5 / 5)
    assert plan.maintenance_engineers.fte == pytest.approx(2600 / 126 / 5 + 800 / 252 / 4)


def test_printers_and_other_peripherals_are_both_maintained() -> None:
    plan = plan_desk(Client(pcs=100, printers=60, peripherals=66, working_days=20))
    assert plan.peripherals_serviced_per_day == pytest.approx(126 / 240)
    assert plan.maintenance_engineers.fte == pytest.approx(100 / 120 / 10 + 126 / 240 / 6)


def test_maintenance_interval_outside_the_source_range_is_noted() -> None:
    assert len(plan_desk(CASE_STUDY).notes) == 2
    plan = plan_desk(dataclasses.replace(CASE_STUDY, pc_interval_months=2))
    assert any("PCs every 2 months" in note for note in plan.notes)
    assert not any("peripherals every" in note for note in plan.notes)
    shorter = plan_desk(dataclasses.replace(CASE_STUDY, pc_interval_months=3))
    assert shorter.maintenance_engineers.fte == pytest.approx(2600 / 63 / 10 + 800 / 1512)


@pytest.mark.parametrize(
    ("fte", "people"), [(0.0, 0), (0.2, 1), (7.0, 7), (7.000000000000001, 7), (7.01, 8)]
)
def test_headcount_rounds_up_but_forgives_float_noise(fte: float, people: int) -> None:
    assert Headcount(fte).people == people


def test_plan_view_is_strict_json() -> None:
    view: dict[str, Any] = json.loads(json.dumps(plan_view(plan_desk(CASE_STUDY)), allow_nan=False))
    assert view["requests_per_month"] == pytest.approx(4160)
    assert view["phone_agents"]["rule_of_thumb"]["people"] == 8
    erlang = view["phone_agents"]["erlang_c"]
    assert (erlang["agents"], erlang["scheduled_agents"]) == (5, 8)
    assert isinstance(erlang["table"], list) and erlang["table"]
    assert view["on_site_engineers"]["people"] == 10
    assert view["maintenance"]["engineers"]["people"] == 3
    assert view["inputs"]["printers"] == 800
    assert view["rules_of_thumb"]["calls_per_phone_agent_per_day"] == 25
    assert FLAT_ARRIVAL in view["notes"]


@pytest.mark.parametrize(
    ("change", "parameter"),
    [
        ({"pcs": 0}, "pcs"),
        ({"pcs": True}, "pcs"),
        ({"pcs": 2.5}, "pcs"),
        ({"printers": -1}, "printers"),
        ({"peripherals": -1}, "peripherals"),
        ({"pcs": 10**9}, "pcs"),
        ({"working_days": 0}, "working_days"),
        ({"working_days": 32}, "working_days"),
        ({"service_hours": 0}, "service_hours"),
        ({"service_hours": 25}, "service_hours"),
        ({"pc_interval_months": 0}, "pc_interval_months"),
        ({"peripheral_interval_months": -6}, "peripheral_interval_months"),
    ],
)
def test_invalid_client_names_the_parameter(change: dict[str, Any], parameter: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        dataclasses.replace(CASE_STUDY, **change)
    assert caught.value.parameter == parameter


@pytest.mark.parametrize(
    ("change", "parameter"),
    [
        ({"solved_on_phone": 1.5}, "solved_on_phone"),
        ({"needing_on_site": -0.1}, "needing_on_site"),
        ({"calls_per_phone_agent_per_day": 0}, "calls_per_phone_agent_per_day"),
        ({"pc_maintenance_months": (6, 3)}, "pc_maintenance_months"),
    ],
)
def test_invalid_rules_name_the_parameter(change: dict[str, Any], parameter: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        RulesOfThumb(**change)
    assert caught.value.parameter == parameter


@pytest.mark.parametrize(
    ("service", "parameter"),
    [
        (PhoneService(aht_seconds=0), "aht_seconds"),
        (PhoneService(target=1.0), "target"),
        (PhoneService(shrinkage=1.0), "shrinkage"),
        (PhoneService(max_occupancy=0.0), "max_occupancy"),
    ],
)
def test_invalid_phone_service_names_the_parameter(service: PhoneService, parameter: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        plan_desk(CASE_STUDY, service)
    assert caught.value.parameter == parameter


def test_a_desk_beyond_the_calculator_is_refused_by_pcs() -> None:
    # 10 million PCs in one service hour a day: far over the Erlang C limit.
    with pytest.raises(InvalidInput) as caught:
        plan_desk(Client(pcs=10_000_000, service_hours=1))
    assert caught.value.parameter == "pcs"
