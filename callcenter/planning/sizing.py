"""Sizing a client's service desk from the source's rules of thumb, next to Erlang C.

The source sizes the desk from average experience values (its table, kept in
`RulesOfThumb`); Erlang C sizes the phones from the service level instead. Showing both
side by side lets a manager see where the rule of thumb is generous or short. Pure: no I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from callcenter.planning.erlang import (
    MAX_TRAFFIC_ERLANGS,
    InvalidInput,
    Requirement,
    Workload,
    require_finite,
    require_positive,
    required_agents,
    requirement_view,
    traffic_intensity,
)

#: Past this, a "client" is a typo; it also keeps the Erlang C search small.
MAX_DEVICES = 10_000_000
FLAT_ARRIVAL = (
    "Erlang C assumes calls arrive evenly over the service hours; real desks peak "
    "(Monday mornings, after outages), so size the peak hour with `staffing erlang`."
)
RULE_OF_THUMB_PHONES = (
    "The rule of thumb counts agents handling calls; Erlang C's scheduled agents add "
    "shrinkage (breaks, training, absence) on top of those on the phones."
)


@dataclass(frozen=True)
class RulesOfThumb:
    """The source's table of average experience values; override any for a given client."""

    requests_per_pc_per_month: float = 1.6
    calls_per_phone_agent_per_day: float = 25
    solved_on_phone: float = 0.6
    needing_on_site: float = 0.4
    on_site_requests_per_engineer_per_day: float = 8
    pcs_serviced_per_engineer_per_day: float = 10
    peripherals_serviced_per_engineer_per_day: float = 6
    #: Preventive maintenance intervals the source asks for, in months (shortest, longest).
    pc_maintenance_months: tuple[float, float] = (3, 6)
    peripheral_maintenance_months: tuple[float, float] = (6, 12)

    def __post_init__(self) -> None:
        for name in (
            "requests_per_pc_per_month",
            "calls_per_phone_agent_per_day",
            "on_site_requests_per_engineer_per_day",
            "pcs_serviced_per_engineer_per_day",
            "peripherals_serviced_per_engineer_per_day",
        ):
            require_positive(name, getattr(self, name))
        for name in ("solved_on_phone", "needing_on_site"):
            value = getattr(self, name)
            require_finite(name, value)
            if not 0 <= value <= 1:
                raise InvalidInput(name, "must be a share from 0 to 1")
        for name in ("pc_maintenance_months", "peripheral_maintenance_months"):
            shortest, longest = getattr(self, name)
            require_positive(name, shortest)
            require_positive(name, longest)
            if shortest > longest:
                raise InvalidInput(name, "the shortest interval comes first")


@dataclass(frozen=True)
class Client:
    """What is supported and when; intervals default to the longest the source allows."""

    pcs: int
    printers: int = 0
    #: Peripherals other than printers (scanners, projectors, ...).
    peripherals: int = 0
    working_days: float = 21
    service_hours: float = 9
    pc_interval_months: float = 6
    peripheral_interval_months: float = 12

    def __post_init__(self) -> None:
        # At least one PC: the requests, and so the whole desk, come from PCs.
        for name, least in (("pcs", 1), ("printers", 0), ("peripherals", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise InvalidInput(name, f"must be a whole number, {least} or more")
            if value > MAX_DEVICES:
                raise InvalidInput(name, f"must be at most {MAX_DEVICES}")
        require_positive("working_days", self.working_days)
        if self.working_days > 31:
            raise InvalidInput("working_days", "must be at most 31 (days in a month)")
        require_positive("service_hours", self.service_hours)
        if self.service_hours > 24:
            raise InvalidInput("service_hours", "must be at most 24")
        require_positive("pc_interval_months", self.pc_interval_months)
        require_positive("peripheral_interval_months", self.peripheral_interval_months)

    @property
    def all_peripherals(self) -> int:
        return self.printers + self.peripherals


@dataclass(frozen=True)
class PhoneService:
    """How the phones should answer; the source's SLA is 90% within 20 seconds."""

    aht_seconds: float = 360
    answer_within_seconds: float = 20
    target: float = 0.9
    shrinkage: float = 0.3
    max_occupancy: float | None = None


@dataclass(frozen=True)
class Headcount:
    """A staffing figure: the exact full-time equivalents and the people to hire."""

    fte: float

    @property
    def people(self) -> int:
        # Round up, forgiving float noise: 7.000000000000001 FTE is 7 people, not 8.
        return math.ceil(self.fte - 1e-9 * max(1.0, self.fte))


@dataclass(frozen=True)
class DeskPlan:
    client: Client
    rules: RulesOfThumb
    service: PhoneService
    requests_per_month: float
    requests_per_day: float
    solved_on_phone_per_day: float
    on_site_requests_per_day: float
    phone_agents_rule_of_thumb: Headcount
    #: Erlang C over the service hours (see FLAT_ARRIVAL).
    phones: Requirement
    on_site_engineers: Headcount
    pcs_serviced_per_day: float
    peripherals_serviced_per_day: float
    maintenance_engineers: Headcount
    notes: tuple[str, ...]


def plan_desk(
    client: Client,
    service: PhoneService | None = None,
    rules: RulesOfThumb | None = None,
) -> DeskPlan:
    """Requests, phone agents (both ways), on-site and maintenance engineers for a client."""
    service = service or PhoneService()
    rules = rules or RulesOfThumb()
    requests_per_month = client.pcs * rules.requests_per_pc_per_month
    per_day = requests_per_month / client.working_days
    calls_per_hour = per_day / client.service_hours
    if traffic_intensity(calls_per_hour, 3600, service.aht_seconds) > MAX_TRAFFIC_ERLANGS:
        raise InvalidInput(
            "pcs", f"the phones would carry over {MAX_TRAFFIC_ERLANGS:.0f} Erlangs; too big"
        )
    # One hour of the flat day: the same traffic as the whole day over the service hours.
    phones = required_agents(
        Workload(
            calls=calls_per_hour,
            interval_minutes=60,
            aht_seconds=service.aht_seconds,
            answer_within_seconds=service.answer_within_seconds,
            target=service.target,
            shrinkage=service.shrinkage,
            max_occupancy=service.max_occupancy,
        )
    )
    on_site_per_day = per_day * rules.needing_on_site
    pcs_per_day = client.pcs / (client.pc_interval_months * client.working_days)
    peripherals_per_day = client.all_peripherals / (
        client.peripheral_interval_months * client.working_days
    )
    maintenance = (
        pcs_per_day / rules.pcs_serviced_per_engineer_per_day
        + peripherals_per_day / rules.peripherals_serviced_per_engineer_per_day
    )
    return DeskPlan(
        client=client,
        rules=rules,
        service=service,
        requests_per_month=requests_per_month,
        requests_per_day=per_day,
        solved_on_phone_per_day=per_day * rules.solved_on_phone,
        on_site_requests_per_day=on_site_per_day,
        phone_agents_rule_of_thumb=Headcount(per_day / rules.calls_per_phone_agent_per_day),
        phones=phones,
        on_site_engineers=Headcount(on_site_per_day / rules.on_site_requests_per_engineer_per_day),
        pcs_serviced_per_day=pcs_per_day,
        peripherals_serviced_per_day=peripherals_per_day,
        maintenance_engineers=Headcount(maintenance),
        notes=(FLAT_ARRIVAL, RULE_OF_THUMB_PHONES, *_interval_notes(client, rules)),
    )


def plan_view(plan: DeskPlan) -> dict[str, Any]:
    """What the CLI's --json and the REST API return: one shape for both."""
    c, s = plan.client, plan.service
    return {
        "inputs": {
            "pcs": c.pcs,
            "printers": c.printers,
            "peripherals": c.peripherals,
            "working_days": c.working_days,
            "service_hours": c.service_hours,
            "pc_interval_months": c.pc_interval_months,
            "peripheral_interval_months": c.peripheral_interval_months,
            "aht_seconds": s.aht_seconds,
            "answer_within_seconds": s.answer_within_seconds,
            "target": s.target,
            "shrinkage": s.shrinkage,
            "max_occupancy": s.max_occupancy,
        },
        "rules_of_thumb": {
            "requests_per_pc_per_month": plan.rules.requests_per_pc_per_month,
            "calls_per_phone_agent_per_day": plan.rules.calls_per_phone_agent_per_day,
            "solved_on_phone": plan.rules.solved_on_phone,
            "needing_on_site": plan.rules.needing_on_site,
            "on_site_requests_per_engineer_per_day": (
                plan.rules.on_site_requests_per_engineer_per_day
            ),
            "pcs_serviced_per_engineer_per_day": plan.rules.pcs_serviced_per_engineer_per_day,
            "peripherals_serviced_per_engineer_per_day": (
                plan.rules.peripherals_serviced_per_engineer_per_day
            ),
        },
        "requests_per_month": plan.requests_per_month,
        "requests_per_day": plan.requests_per_day,
        "solved_on_phone_per_day": plan.solved_on_phone_per_day,
        "on_site_requests_per_day": plan.on_site_requests_per_day,
        "phone_agents": {
            "rule_of_thumb": _headcount(plan.phone_agents_rule_of_thumb),
            "erlang_c": requirement_view(plan.phones),
        },
        "on_site_engineers": _headcount(plan.on_site_engineers),
        "maintenance": {
            "pcs_serviced_per_day": plan.pcs_serviced_per_day,
            "peripherals_serviced_per_day": plan.peripherals_serviced_per_day,
            "engineers": _headcount(plan.maintenance_engineers),
        },
        "notes": list(plan.notes),
    }


def _headcount(count: Headcount) -> dict[str, Any]:
    return {"fte": count.fte, "people": count.people}


def _interval_notes(client: Client, rules: RulesOfThumb) -> list[str]:
    notes = []
    for what, chosen, (shortest, longest) in (
        ("PCs", client.pc_interval_months, rules.pc_maintenance_months),
        ("peripherals", client.peripheral_interval_months, rules.peripheral_maintenance_months),
    ):
        if not shortest <= chosen <= longest:
            notes.append(
                f"Preventive maintenance of {what} every {chosen:g} months is outside the "
                f"{shortest:g} to {longest:g} months the source asks for."
            )
    return notes
