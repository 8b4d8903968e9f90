"""`callcenter report --org NAME --month YYYY-MM --out DIR`: the monthly client report.

Bad input (a month that is not YYYY-MM, an unknown organisation, an unreachable
database, an output directory that cannot be written) prints one line and exits 2.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from callcenter.settings import Settings

EXIT_BAD_INPUT = 2


def add_commands(commands: Any) -> None:
    report = commands.add_parser(
        "report", help="the monthly client report: report.html, charts and CSV files"
    )
    report.add_argument("--org", required=True, help="the client organisation, by name")
    report.add_argument("--month", required=True, help="the calendar month (UTC), YYYY-MM")
    report.add_argument("--out", required=True, type=Path, help="directory for the files")
    report.add_argument("--database", help="database URL (default: database.url of the settings)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_run(args, settings))


def _fail(message: str) -> int:
    print(f"callcenter: report: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    from callcenter.reports import model as report
    from callcenter.reports import render as report_render
    from callcenter.reports import store as report_query
    from callcenter.tickets.store import open_store

    try:
        month = report.Month.parse(args.month)
    except report.ReportError as exc:
        return _fail(str(exc))
    if args.out.exists() and not args.out.is_dir():
        return _fail(f"--out {args.out}: not a directory")
    thresholds = {q.name: q.service_level_seconds for q in settings.acd.queues}
    url = args.database or settings.database.url
    try:
        store = open_store(url, settings.ticketing.default_region)
    except (SQLAlchemyError, ValueError) as exc:  # a malformed URL, an unknown driver
        return _fail(f"database {url!r}: {_first_line(exc)}")
    try:
        inputs = await report_query.gather(store, args.org, month, thresholds, datetime.now(UTC))
    except report.ReportError as exc:
        return _fail(str(exc))
    except (SQLAlchemyError, OSError) as exc:
        return _fail(f"database: {_first_line(exc)}")
    finally:
        await store.close()
    figures = report.compute(inputs)
    try:
        written = report_render.write(figures, args.out)
    except OSError as exc:
        return _fail(f"cannot write to {args.out}: {exc.strerror or exc}")
    print(f"report for {figures.organisation}, {figures.month}: {len(written)} files in {args.out}")
    return 0


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
