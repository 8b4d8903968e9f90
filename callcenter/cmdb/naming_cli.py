"""`callcenter naming check NAME...`: do names follow the configured naming standard?

Useful during the asset survey, before an import: each value is printed with its parts,
or with the part that is wrong; the exit status is 1 if any value fails.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from callcenter.cmdb.naming import NamingError, NamingStandard
from callcenter.settings import NamingSettings, Settings

EXIT_FAILED = 1
EXIT_USAGE = 2
#: Kind -> how it is called in the output.
KINDS: Mapping[str, str] = {"asset": "asset number", "device": "device name", "user": "user name"}


@dataclass(frozen=True)
class Verdict:
    value: str
    #: asset, device or user: the kind checked (guessed, for a bare NAME).
    kind: str
    #: The parts, e.g. "contract 0000, type COM (desktop computer), serial 1234"; or None.
    parts: str | None
    #: Why it fails (the naming error's one line); None if it follows the standard.
    error: str | None

    @property
    def ok(self) -> bool:
        return self.error is None

    def __str__(self) -> str:
        what = KINDS[self.kind]
        if self.error is None:
            return f"ok    {what} {self.value}: {self.parts}"
        return f"FAIL  {what} {self.value}: {self.error}"


def add_commands(commands: Any) -> None:
    naming = commands.add_parser(
        "naming", help="the naming standard of ticketing.naming"
    ).add_subparsers(dest="action", required=True)
    check = naming.add_parser(
        "check",
        help="tell whether names follow the standard, and which part is wrong",
        description=(
            "A bare NAME is checked as whatever kind it follows; when it follows none, as the"
            " kind whose pattern it fits (but a code is unknown), else as the kind it looks"
            " like (a dash: device name; a leading digit: asset number; else user name)."
            " NAMEs come before the options. Exit status 1 if any value fails."
        ),
    )
    check.add_argument("names", nargs="*", metavar="NAME", help="any name")
    for kind, what in KINDS.items():
        check.add_argument(
            f"--{kind}",
            action="append",
            default=[],
            metavar="VALUE",
            help=f"check VALUE as {'an' if kind == 'asset' else 'a'} {what} (repeatable)",
        )


def run(args: argparse.Namespace, settings: Settings) -> int:
    wanted: list[tuple[str | None, str]] = [(None, name) for name in args.names]
    for kind in KINDS:
        wanted += [(kind, value) for value in getattr(args, kind)]
    if not wanted:
        print(
            "callcenter naming check: give at least one NAME, --asset, --device or --user",
            file=sys.stderr,
        )
        return EXIT_USAGE
    verdicts = check_names(settings.ticketing.naming, wanted)
    for verdict in verdicts:
        print(verdict)
    return 0 if all(v.ok for v in verdicts) else EXIT_FAILED


def check_names(naming: NamingSettings, wanted: Sequence[tuple[str | None, str]]) -> list[Verdict]:
    """Each (kind or None: guess, value) against the standard of `naming`."""
    standard = naming.standard()
    verdicts = []
    for kind, value in wanted:
        if kind is not None:
            verdicts.append(_check(standard, naming, kind, value))
            continue
        tried = {k: _check(standard, naming, k, value) for k in KINDS}
        passed = [v for v in tried.values() if v.ok]
        shaped = [v for k, v in tried.items() if standard.fits_pattern(k, value)]
        verdicts.append((passed or shaped or [tried[_looks_like(value)]])[0])
    return verdicts


def _looks_like(value: str) -> str:
    if "-" in value:
        return "device"
    return "asset" if value[:1].isdigit() else "user"


def _check(standard: NamingStandard, naming: NamingSettings, kind: str, value: str) -> Verdict:
    def typed(code: str) -> str:
        return f"type {code} ({naming.device_types[code]})"

    try:
        if kind == "asset":
            asset = standard.parse_asset_number(value)
            parts = f"contract {asset.contract}, {typed(asset.device_type)}, serial {asset.serial}"
        elif kind == "device":
            device = standard.parse_device_name(value)
            parts = (
                f"department {device.department}, {typed(device.device_type)},"
                f" serial {device.serial}"
            )
        else:
            user = standard.parse_user_name(value)
            parts = f"name {user.pinyin}, department {user.department}"
    except NamingError as exc:
        return Verdict(value, kind, None, str(exc))
    return Verdict(value, kind, parts, None)
