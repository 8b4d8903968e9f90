"""Which SLA policy and service calendar an organisation's tickets are timed on.

Each organisation may have its own calendar (time zone, working hours, holidays) and
names its policy (`organisation.sla_policy`); what it leaves unset comes from the
settings (`store.SlaSetup`). Pure: the caller reads the organisation's row.

A policy or calendar change applies to tickets opened afterwards. Clocks already
started keep the target and the calendar they started with (`sla.py`): the service
level promised when the ticket was logged is the one it is measured against, as ITSM
contracts and reports expect; `sla.retarget` is the explicit way to change one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from callcenter.tickets.calendar import BusinessCalendar, CalendarError
from callcenter.tickets.sla import SlaPolicy

#: More holidays than this is a mistake; it also keeps every calendar open at least once
#: within `calendar.MAX_SEARCH_DAYS`, so a clock can always find its due time.
MAX_HOLIDAYS = 1000


class OrgSlaError(ValueError):
    """An organisation's SLA settings are invalid (one line, naming the field)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class OrgSla:
    """An organisation's own SLA settings as stored; None: the settings' default."""

    organisation_id: int
    policy: str | None = None
    calendar: Mapping[str, Any] | None = None


def choose_policy(org: OrgSla | None, policies: Mapping[str, SlaPolicy], default: str) -> SlaPolicy:
    """The organisation's named policy if it is known, else the default one."""
    name = org.policy if org is not None else None
    return policies.get(name or "") or policies[default]


def choose_calendar(org: OrgSla | None, default: BusinessCalendar) -> BusinessCalendar:
    """The organisation's calendar if it has one, else the settings' calendar."""
    if org is None or org.calendar is None:
        return default
    return BusinessCalendar.from_data(org.calendar)


def check_calendar(data: Mapping[str, Any]) -> BusinessCalendar:
    """A calendar as an API client or a file gives it, or OrgSlaError naming the field."""
    for key, kind in (("always_open", bool), ("name", str), ("timezone", str)):
        if key in data and not isinstance(data[key], kind):
            raise OrgSlaError("calendar", f"{key} must be {kind.__name__}")
    if "holidays" in data:
        data = {**data, "holidays": expand_holidays(data["holidays"])}
    try:
        return BusinessCalendar.from_data(data)
    except CalendarError as exc:
        raise OrgSlaError("calendar", str(exc)) from None
    except (TypeError, AttributeError, KeyError, OSError):
        raise OrgSlaError("calendar", "not a calendar") from None


def expand_holidays(raw: object) -> list[object]:
    """Holidays as dates: each item is "YYYY-MM-DD", or an entry of the holidays file
    (`config/holidays.yaml`: `{"date": ..., "until": ..., "name": ...}`, `until` the last
    day of a run, inclusive), so the file's list can be given as it is."""
    if isinstance(raw, (str, bytes)) or not isinstance(raw, list):
        raise OrgSlaError("calendar", "holidays must be a list")
    days: list[object] = []
    for item in raw:
        if isinstance(item, Mapping):
            unknown = sorted(str(k) for k in item if k not in ("date", "until", "name"))
            if unknown:
                raise OrgSlaError("calendar", f"holiday: unknown key {unknown[0]!r}")
            if not isinstance(item.get("name", ""), str):
                raise OrgSlaError("calendar", "holiday: name must be text")
            first = _day(item.get("date"))
            last = _day(item.get("until", item.get("date")))
            if last < first:
                raise OrgSlaError("calendar", f"holiday {first}: until is before date")
            if (last - first).days >= MAX_HOLIDAYS:
                raise OrgSlaError("calendar", f"at most {MAX_HOLIDAYS} holidays")
            span = (last - first).days + 1
            days += [(first + timedelta(days=n)).isoformat() for n in range(span)]
        else:
            days.append(item)  # a date; `BusinessCalendar.from_data` checks it
        if len(days) > MAX_HOLIDAYS:
            raise OrgSlaError("calendar", f"at most {MAX_HOLIDAYS} holidays")
    return days


def _day(value: object) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise OrgSlaError("calendar", f"holiday {value!r} is not YYYY-MM-DD") from None


def check_policy(name: str | None, policies: Mapping[str, SlaPolicy]) -> str | None:
    if name is not None and name not in policies:
        known = ", ".join(sorted(policies))
        raise OrgSlaError("policy", f"{name!r} is not one of {known}")
    return name
