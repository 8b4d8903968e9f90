"""The naming standard of MISSION.md's case study, validated by configurable patterns.

- asset number `0000COM1234`: contract number (4 digits), device type (3 letters), serial
  (4 digits);
- device name `KJC-COM-1234`: department, device type, serial;
- user name `zhangshanKJC`: the full name in pinyin (lower case) and the department.

Each pattern is a regular expression with named groups (`contract`, `type`, `serial`,
`department`, `name`) and may be replaced per client. Device type codes come from a
configurable set; department codes may be restricted to a known set. Errors are
`NamingError`, one line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

DEFAULT_DEVICE_TYPES: Mapping[str, str] = {
    "COM": "desktop computer",
    "LAP": "laptop",
    "PRN": "printer",
    "SRV": "server",
    "NET": "network device",
    "MON": "monitor",
    "SCN": "scanner",
    "PHN": "telephone",
    "SOF": "software",
}
ASSET_PATTERN = r"(?P<contract>\d{4})(?P<type>[A-Z]{3})(?P<serial>\d{4})"
DEVICE_PATTERN = r"(?P<department>[A-Z]{2,6})-(?P<type>[A-Z]{3})-(?P<serial>\d{4})"
USER_PATTERN = r"(?P<name>[a-z]{2,40})(?P<department>[A-Z]{2,6})"

_GROUPS = {
    "asset": ("contract", "type", "serial"),
    "device": ("department", "type", "serial"),
    "user": ("name", "department"),
}


class NamingError(ValueError):
    """A name that breaks the standard, or an invalid standard (one line)."""


def check_pattern(which: str, pattern: str) -> re.Pattern[str]:
    """`pattern` compiled if it is a regex with the groups names of kind `which` (asset,
    device, user) need; else NamingError, one line."""
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise NamingError(f"{which} pattern is not a regex: {exc}") from None
    for group in _GROUPS[which]:
        if group not in compiled.groupindex:
            raise NamingError(f"{which} pattern lacks the group {group!r}")
    return compiled


@dataclass(frozen=True)
class AssetNumber:
    contract: str
    device_type: str
    serial: str

    def __str__(self) -> str:
        return f"{self.contract}{self.device_type}{self.serial}"


@dataclass(frozen=True)
class DeviceName:
    department: str
    device_type: str
    serial: str

    def __str__(self) -> str:
        return f"{self.department}-{self.device_type}-{self.serial}"


@dataclass(frozen=True)
class UserName:
    pinyin: str
    department: str

    def __str__(self) -> str:
        return f"{self.pinyin}{self.department}"


@dataclass(frozen=True)
class NamingStandard:
    """Patterns and codes of one client. The defaults are MISSION.md's."""

    device_types: frozenset[str] = frozenset(DEFAULT_DEVICE_TYPES)
    #: Known department codes; None accepts any code the patterns accept.
    departments: frozenset[str] | None = None
    asset_pattern: str = ASSET_PATTERN
    device_pattern: str = DEVICE_PATTERN
    user_pattern: str = USER_PATTERN
    _compiled: dict[str, re.Pattern[str]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "device_types", frozenset(self.device_types))
        if self.departments is not None:
            object.__setattr__(self, "departments", frozenset(self.departments))
        if not self.device_types:
            raise NamingError("naming: no device type codes")
        for which, pattern in (
            ("asset", self.asset_pattern),
            ("device", self.device_pattern),
            ("user", self.user_pattern),
        ):
            try:
                self._compiled[which] = check_pattern(which, pattern)
            except NamingError as exc:
                raise NamingError(f"naming: {exc}") from None

    @classmethod
    def from_data(cls, data: Mapping[str, object]) -> NamingStandard:
        """`{"device_types": ["COM", ...], "departments": ["KJC", ...],
        "patterns": {"asset": ..., "device": ..., "user": ...}}`; all keys optional."""
        unknown = sorted(set(data) - {"device_types", "departments", "patterns"})
        if unknown:
            raise NamingError(f"naming: unknown key {unknown[0]!r}")
        kwargs: dict[str, object] = {}
        if "device_types" in data:
            kwargs["device_types"] = frozenset(_codes(data["device_types"], "device_types"))
        if "departments" in data:
            kwargs["departments"] = frozenset(_codes(data["departments"], "departments"))
        patterns = data.get("patterns", {})
        if not isinstance(patterns, Mapping):
            raise NamingError("naming: patterns must map asset/device/user to regexes")
        for which, pattern in patterns.items():
            if which not in _GROUPS:
                raise NamingError(f"naming: unknown pattern {which!r}")
            if not isinstance(pattern, str):
                raise NamingError(f"naming: {which} pattern must be a string")
            kwargs[f"{which}_pattern"] = pattern
        return cls(**kwargs)  # type: ignore[arg-type]

    # -- parsing ---------------------------------------------------------------------

    def parse_asset_number(self, text: str) -> AssetNumber:
        groups = self._match("asset", "asset number", text)
        return AssetNumber(groups["contract"], self._type(groups["type"], text), groups["serial"])

    def parse_device_name(self, text: str) -> DeviceName:
        groups = self._match("device", "device name", text)
        return DeviceName(
            self._department(groups["department"], text),
            self._type(groups["type"], text),
            groups["serial"],
        )

    def parse_user_name(self, text: str) -> UserName:
        groups = self._match("user", "user name", text)
        return UserName(groups["name"], self._department(groups["department"], text))

    def check_device(self, asset_number: str, device_name: str) -> tuple[AssetNumber, DeviceName]:
        """Both names of one device; they must agree on device type and serial."""
        asset = self.parse_asset_number(asset_number)
        name = self.parse_device_name(device_name)
        if (asset.device_type, asset.serial) != (name.device_type, name.serial):
            raise NamingError(
                f"device {device_name!r} and asset {asset_number!r} disagree on type or serial"
            )
        return asset, name

    # -- formatting (the inverse, validated) ---------------------------------------------

    def asset_number(self, contract: int | str, device_type: str, serial: int | str) -> str:
        text = f"{_digits(contract, 4)}{device_type.upper()}{_digits(serial, 4)}"
        return str(self.parse_asset_number(text))

    def device_name(self, department: str, device_type: str, serial: int | str) -> str:
        text = f"{department.upper()}-{device_type.upper()}-{_digits(serial, 4)}"
        return str(self.parse_device_name(text))

    def user_name(self, pinyin: str, department: str) -> str:
        text = f"{''.join(pinyin.split()).lower()}{department.upper()}"
        return str(self.parse_user_name(text))

    def check_department(self, code: str) -> str:
        """A department code given on its own (a survey's department column)."""
        return self._department(code, code)

    def fits_pattern(self, which: str, text: str) -> bool:
        """Whether `text` matches the pattern of kind `which` (asset, device, user), codes
        unchecked: a name whose kind is unknown is most likely of a kind it fits."""
        return self._compiled[which].fullmatch(text) is not None

    # -- internals ---------------------------------------------------------------------

    def _match(self, which: str, what: str, text: str) -> dict[str, str]:
        if not isinstance(text, str):
            raise NamingError(f"{what} {text!r}: not a string")
        match = self._compiled[which].fullmatch(text)
        if match is None:
            wrong = wrong_part(self._compiled[which], _GROUPS[which], text)
            hint = ""
            if wrong is not None:
                group, part, sub = wrong
                shown = f"{part!r} is not" if part else "is missing, wanted"
                hint = f": the {group} part {shown} {sub}"
            raise NamingError(f"{what} {text!r} does not match {self._pattern(which)}{hint}")
        return {key: value for key, value in match.groupdict().items() if value is not None}

    def _pattern(self, which: str) -> str:
        return self._compiled[which].pattern

    def _type(self, code: str, text: str) -> str:
        if code not in self.device_types:
            known = ", ".join(sorted(self.device_types))
            raise NamingError(f"{text!r}: unknown device type {code!r} (known: {known})")
        return code

    def _department(self, code: str, text: str) -> str:
        if self.departments is not None and code not in self.departments:
            raise NamingError(f"{text!r}: unknown department {code!r}")
        return code


DEFAULT_STANDARD = NamingStandard()


@dataclass(frozen=True)
class NamingPolicy:
    """A deployment's standard and what breaking it costs: refused, or only a warning."""

    standard: NamingStandard = DEFAULT_STANDARD
    warn: bool = False


def item_naming_errors(
    standard: NamingStandard, asset_tag: str, name: str, changed: Iterable[str]
) -> list[tuple[str, str]]:
    """(field, one line) for the names of a configuration item that break the standard,
    among the `changed` fields (`asset_tag`, `name`): a stored name already off the
    standard does not block changing the other one. Disagreeing on type or serial is
    blamed on `name` if it changed, else on `asset_tag`."""
    fields = set(changed)
    found: list[tuple[str, str]] = []
    for key, parse in (
        ("asset_tag", standard.parse_asset_number),
        ("name", standard.parse_device_name),
    ):
        try:
            parse(asset_tag if key == "asset_tag" else name)
        except NamingError as exc:
            found.append((key, str(exc)))
    if not found:
        try:
            standard.check_device(asset_tag, name)
        except NamingError as exc:
            found.append(("name" if "name" in fields else "asset_tag", str(exc)))
    return [(key, message) for key, message in found if key in fields]


def parse_asset_number(text: str, standard: NamingStandard = DEFAULT_STANDARD) -> AssetNumber:
    return standard.parse_asset_number(text)


def parse_device_name(text: str, standard: NamingStandard = DEFAULT_STANDARD) -> DeviceName:
    return standard.parse_device_name(text)


def parse_user_name(text: str, standard: NamingStandard = DEFAULT_STANDARD) -> UserName:
    return standard.parse_user_name(text)


def wrong_part(
    compiled: re.Pattern[str], groups: Iterable[str], text: str
) -> tuple[str, str, str] | None:
    """(group, its text, its sub-pattern) of the one named group whose sub-pattern, once
    relaxed to "anything", lets `text` match: the part of a name that is wrong. None when
    no single group explains the mismatch (a separator is wrong, or several parts)."""
    spans = _group_spans(compiled.pattern)
    for group in groups:
        if group not in spans:
            continue
        start, end = spans[group]
        relaxed = compiled.pattern[:start] + "(?s:.*?)" + compiled.pattern[end:]
        try:
            match = re.fullmatch(relaxed, text, compiled.flags)
        except re.error:
            continue
        if match is not None:
            return group, match.group(group), compiled.pattern[start:end]
    return None


def _group_spans(pattern: str) -> dict[str, tuple[int, int]]:
    """Where the body of each `(?P<name>...)` group lies in the pattern's text."""
    spans: dict[str, tuple[int, int]] = {}
    opened: list[tuple[str | None, int]] = []
    i, in_class = 0, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            if pattern[i + 1 : i + 2] == "]":
                i += 1
        elif char == "(":
            named = re.match(r"\(\?P<(\w+)>", pattern[i:])
            if named:
                opened.append((named.group(1), i + named.end()))
                i += named.end()
                continue
            opened.append((None, i + 1))
        elif char == ")" and opened:
            name, start = opened.pop()
            if name is not None:
                spans[name] = (start, i)
        i += 1
    return spans


def _codes(value: object, key: str) -> Iterable[str]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise NamingError(f"naming: {key} must be a list of codes")
    codes = []
    for item in value:
        if not isinstance(item, str) or not item.isalnum() or not item.isupper():
            raise NamingError(f"naming: {key}: {item!r} is not an upper-case code")
        codes.append(item)
    return codes


def _digits(value: int | str, width: int) -> str:
    if isinstance(value, bool):
        raise NamingError(f"{value!r} is not a number")
    if isinstance(value, int):
        if value < 0 or value >= 10**width:
            raise NamingError(f"{value} does not fit in {width} digits")
        return f"{value:0{width}d}"
    return value
