"""`callcenter import employees|devices FILE`: the asset survey into the ticket database.

Prints every problem with its line number and exits 1 with nothing written; `--dry-run`
checks and counts without writing. Names are checked against `ticketing.naming`; with
`enforce: warn` names off the standard are printed as warnings and imported. A progress
bar goes to stderr when it is a terminal.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy.exc import IntegrityError

from callcenter.settings import Settings

EXIT_PROBLEMS = 1


def add_commands(commands: Any) -> None:
    imports = commands.add_parser(
        "import", help="import the asset survey (employees, devices) from .csv or .xlsx"
    ).add_subparsers(dest="what", required=True)
    employees = imports.add_parser(
        "employees", help="employees by username: name, department, phones, email, vip"
    )
    employees.add_argument(
        "--organisation",
        help="the client they work for (created if missing); default: the only one",
    )
    devices = imports.add_parser(
        "devices", help="devices by asset number: name, kind, model, ..., owner, location"
    )
    for parser in (employees, devices):
        parser.add_argument("file", type=Path, help="a .csv (UTF-8) or .xlsx file")
        parser.add_argument("--dry-run", action="store_true", help="check and count, write nothing")


class ProgressBar:
    """`label [#####-----] done/total` redrawn in place; silent unless `stream` is a TTY."""

    WIDTH = 30

    def __init__(self, label: str, stream: TextIO) -> None:
        self._label = label
        self._stream = stream
        self._shown = stream.isatty()
        self._last = -1

    def __call__(self, done: int, total: int) -> None:
        if not self._shown or total <= 0:
            return
        filled = self.WIDTH * done // total
        if filled == self._last and done != total:
            return
        self._last = filled
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        end = "\n" if done == total else ""
        self._stream.write(f"\r{self._label} [{bar}] {done}/{total}{end}")
        self._stream.flush()


def run(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_run(args, settings))


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    from callcenter.cmdb.asset_import import (
        ImportFileError,
        import_devices,
        import_employees,
        problems_text,
    )
    from callcenter.db.migrate import upgrade
    from callcenter.tickets.store import open_store

    await upgrade(settings.database.url, settings.ticketing.default_region)
    store = open_store(settings.database.url, settings.ticketing.default_region)
    progress = ProgressBar(f"importing {args.what}", sys.stderr)
    naming = settings.ticketing.naming
    warn = naming.enforce == "warn"
    try:
        if args.what == "employees":
            report = await import_employees(
                store,
                args.file,
                default_region=settings.ticketing.default_region,
                organisation=args.organisation,
                standard=naming.standard(),
                warn=warn,
                dry_run=args.dry_run,
                progress=progress,
            )
        else:
            report = await import_devices(
                store,
                args.file,
                standard=naming.standard(),
                warn=warn,
                dry_run=args.dry_run,
                progress=progress,
            )
    except ImportFileError as exc:
        print(f"callcenter: import: {exc}", file=sys.stderr)
        return EXIT_PROBLEMS
    except IntegrityError as exc:  # a check missed a constraint: still nothing written
        reason = str(exc.orig).splitlines()[0] if exc.orig else "constraint violated"
        print(f"callcenter: import: the database refused the rows: {reason}", file=sys.stderr)
        return EXIT_PROBLEMS
    finally:
        await store.close()
    for line in problems_text(report.problems, report.warnings):
        print(line)
    print(report.summary())
    return EXIT_PROBLEMS if report.problems else 0
