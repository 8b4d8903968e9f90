"""The asset survey import: employees and devices from a CSV or Excel file.

Taking over a client starts with its survey. A file is checked whole before anything is
written: every problem is reported with its line number, and one problem means nothing is
written (the checks that need the database run in the same transaction as the writes,
which is rolled back). Rows are keyed (employees by username, devices by asset number),
so importing a corrected file again updates rows instead of adding them twice.

Reading the file (`read_table`) and the database work (`import_employees`,
`import_devices`) are apart from the row checks (`check_employee_rows`,
`check_device_rows`), which do no I/O.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from callcenter.cmdb.naming import DEFAULT_STANDARD, NamingError, NamingStandard
from callcenter.db import models
from callcenter.directory.phone import normalise
from callcenter.tickets.store import SqlTicketStore

#: Column -> required; the key column first. Headers are matched case-blind, with blanks
#: and hyphens read as underscores ("Asset number" is `asset_number`).
EMPLOYEE_COLUMNS: Mapping[str, bool] = {
    "username": True,
    "name": True,
    "department": False,
    "phones": False,
    "email": False,
    "vip": False,
}
DEVICE_COLUMNS: Mapping[str, bool] = {
    "asset_number": True,
    "device_name": True,
    "kind": True,
    "model": False,
    "vendor": False,
    "serial": False,
    "purchase_date": False,
    "warranty_end": False,
    "status": False,
    "owner": False,
    "location": False,
}
#: Other headers surveys use for the same columns.
ALIASES: Mapping[str, str] = {
    "user": "username",
    "phone": "phones",
    "phone_numbers": "phones",
    "asset_tag": "asset_number",
    "name_of_device": "device_name",
    "type": "kind",
    "owner_username": "owner",
}
DEVICE_STATUSES = ("in_use", "in_stock", "in_repair", "retired", "lost")
#: Several numbers in one cell are separated by `;`, `,` or a line break; not by `/`,
#: which people type inside one number (`(020) 8888/1002`).
PHONE_SEPARATORS = re.compile(r"[;,\n]")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_TRUE = {"1", "true", "yes", "y", "x"}
_FALSE = {"", "0", "false", "no", "n"}

Progress = Callable[[int, int], None]


class ImportFileError(Exception):
    """The file cannot be read as a table at all (one line)."""


@dataclass(frozen=True)
class Problem:
    """One reason a file cannot be imported; line 1 is the header."""

    line: int
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "file"
        return (
            f"{where}: {self.column}: {self.message}" if self.column else f"{where}: {self.message}"
        )


@dataclass(frozen=True)
class Table:
    """The rows of a file by column name, each with the line it came from."""

    columns: tuple[str, ...]
    rows: list[tuple[int, dict[str, Any]]]


@dataclass(frozen=True)
class EmployeeRow:
    line: int
    username: str
    name: str
    department: str | None
    #: As typed, and E.164; in file order, duplicates dropped.
    phones: tuple[tuple[str, str], ...]
    email: str | None
    vip: bool


@dataclass(frozen=True)
class DeviceRow:
    line: int
    asset_number: str
    device_name: str
    kind: str
    model: str | None
    vendor: str | None
    serial: str | None
    purchase_date: date | None
    warranty_end: date | None
    status: str
    owner: str | None
    location: str | None


@dataclass
class ImportReport:
    """What an import found and did; nothing was written if `problems` or `dry_run`."""

    what: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    dry_run: bool = False
    problems: list[Problem] = field(default_factory=list)
    #: Names off the naming standard when it is only warned about (`enforce: warn`).
    warnings: list[Problem] = field(default_factory=list)

    @property
    def written(self) -> bool:
        return not self.problems and not self.dry_run

    def summary(self) -> str:
        if self.problems:
            count = len(self.problems)
            return f"{self.what}: {count} problem{'s' * (count != 1)}, nothing written"
        counts = f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"
        suffix = " (dry run: nothing written)" if self.dry_run else ""
        count = len(self.warnings)
        warned = f", {count} naming warning{'s' * (count != 1)}" if count else ""
        return f"{self.what}: {self.rows} rows, {counts}{warned}{suffix}"


# -- reading ----------------------------------------------------------------------------


def read_table(path: Path, known: Mapping[str, bool]) -> tuple[Table, list[Problem]]:
    """The file's rows under known column names, and the problems of its header.

    `.csv` (UTF-8, an Excel BOM allowed, comma-separated) or `.xlsx` (the first sheet).
    Blank rows are skipped.
    """
    suffix = path.suffix.lower()
    if suffix == ".csv":
        lines = _csv_lines(path)
    elif suffix == ".xlsx":
        lines = _xlsx_lines(path)
    else:
        raise ImportFileError(f"{path}: not a .csv or .xlsx file")
    try:
        header_line, header = next(lines)
    except StopIteration:
        raise ImportFileError(f"{path}: the file is empty") from None
    columns = tuple(_column(cell) for cell in header)
    problems: list[Problem] = []
    for name in columns:
        if name and name not in known:
            problems.append(Problem(header_line, name, "unknown column"))
    seen = [name for name in columns if name]
    for name in sorted({name for name in seen if seen.count(name) > 1}):
        problems.append(Problem(header_line, name, "column appears twice"))
    for name, required in known.items():
        if required and name not in columns:
            problems.append(Problem(header_line, name, "required column missing"))
    rows: list[tuple[int, dict[str, Any]]] = []
    for line, cells in lines:
        if all(_blank(cell) for cell in cells):
            continue
        row = {name: cells[i] if i < len(cells) else None for i, name in enumerate(columns) if name}
        extra = [cell for cell in cells[len(columns) :] if not _blank(cell)]
        if extra:
            problems.append(Problem(line, None, "more cells than the header has columns"))
        rows.append((line, row))
    return Table(columns, rows), problems


def _csv_lines(path: Path) -> Iterator[tuple[int, list[Any]]]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as stream:
            reader = csv.reader(stream)
            start = 1
            for cells in reader:
                yield start, list(cells)
                start = reader.line_num + 1
    except UnicodeDecodeError:
        raise ImportFileError(f"{path}: not UTF-8 text (save the CSV as UTF-8)") from None
    except (OSError, csv.Error) as exc:
        raise ImportFileError(f"{path}: {exc}") from None


def _xlsx_lines(path: Path) -> Iterator[tuple[int, list[Any]]]:
    from zipfile import BadZipFile

    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (OSError, BadZipFile, KeyError, ValueError) as exc:
        raise ImportFileError(f"{path}: not a readable .xlsx file ({exc})") from None
    try:
        sheet = book.worksheets[0]
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, list(values)
    finally:
        book.close()


def _column(cell: Any) -> str:
    name = re.sub(r"[\s\-]+", "_", str(cell or "").strip().lower())
    return ALIASES.get(name, name)


def _blank(cell: Any) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _text(cell: Any) -> str | None:
    """A cell as text; numbers Excel stored as floats lose their `.0`."""
    if _blank(cell):
        return None
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    return str(cell).strip()


# -- checking rows (no I/O) ---------------------------------------------------------------


def check_employee_rows(
    table: Table,
    default_region: str,
    standard: NamingStandard = DEFAULT_STANDARD,
    *,
    warnings: list[Problem] | None = None,
) -> tuple[list[EmployeeRow], list[Problem]]:
    """As `check_device_rows`: user names and department codes follow the standard."""
    found: list[EmployeeRow] = []
    problems: list[Problem] = []
    naming = problems if warnings is None else warnings
    first_line: dict[str, int] = {}
    for line, row in table.rows:
        before = len(problems)
        username = _required(row, "username", line, problems, 64)
        name = _required(row, "name", line, problems, 200)
        department = _optional(row, "department", line, problems, 16)
        if username is not None:
            try:
                standard.parse_user_name(username)
            except NamingError as exc:
                naming.append(Problem(line, "username", str(exc)))
        if department is not None:
            try:
                standard.check_department(department)
            except NamingError as exc:
                naming.append(Problem(line, "department", str(exc)))
        email = _optional(row, "email", line, problems, 254)
        if email is not None and not _EMAIL.fullmatch(email):
            problems.append(Problem(line, "email", f"{email!r} is not an e-mail address"))
        vip = _flag(row.get("vip"), line, problems)
        phones: dict[str, str] = {}
        for raw in PHONE_SEPARATORS.split(_text(row.get("phones")) or ""):
            typed = raw.strip()
            if not typed:
                continue
            e164 = normalise(typed, default_region)
            if e164 is None:
                problems.append(
                    Problem(line, "phones", f"{typed!r} is not a valid number ({default_region})")
                )
            else:
                phones.setdefault(e164, typed)
        if username is not None:
            if username in first_line:
                problems.append(
                    Problem(
                        line,
                        "username",
                        f"{username!r} already on line {first_line[username]}",
                    )
                )
            else:
                first_line[username] = line
        if len(problems) == before and username is not None and name is not None:
            found.append(
                EmployeeRow(
                    line,
                    username,
                    name,
                    department,
                    tuple((typed, e164) for e164, typed in phones.items()),
                    email,
                    vip,
                )
            )
    return found, problems


def check_device_rows(
    table: Table,
    standard: NamingStandard = DEFAULT_STANDARD,
    *,
    warnings: list[Problem] | None = None,
) -> tuple[list[DeviceRow], list[Problem]]:
    """The rows that can be written, and the problems. Names off the naming standard are
    problems, or go to `warnings` (the row is kept) when that list is given."""
    found: list[DeviceRow] = []
    problems: list[Problem] = []
    first_asset: dict[str, int] = {}
    first_name: dict[str, int] = {}
    for line, row in table.rows:
        before = len(problems)
        asset = _required(row, "asset_number", line, problems, 32)
        name = _required(row, "device_name", line, problems, 64)
        kind = _required(row, "kind", line, problems, 32)
        naming = problems if warnings is None else warnings
        named = len(naming)
        if asset is not None:
            try:
                standard.parse_asset_number(asset)
            except NamingError as exc:
                naming.append(Problem(line, "asset_number", str(exc)))
        if name is not None:
            try:
                standard.parse_device_name(name)
            except NamingError as exc:
                naming.append(Problem(line, "device_name", str(exc)))
        if (
            asset is not None
            and name is not None
            and len(problems) == before
            and len(naming) == named
        ):
            try:
                standard.check_device(asset, name)
            except NamingError as exc:
                naming.append(Problem(line, "device_name", str(exc)))
        for key, seen, column in (
            (asset, first_asset, "asset_number"),
            (name, first_name, "device_name"),
        ):
            if key is None:
                continue
            if key in seen:
                problems.append(Problem(line, column, f"{key!r} already on line {seen[key]}"))
            else:
                seen[key] = line
        purchased = _date(row.get("purchase_date"), "purchase_date", line, problems)
        warranty = _date(row.get("warranty_end"), "warranty_end", line, problems)
        if purchased is not None and warranty is not None and warranty < purchased:
            problems.append(Problem(line, "warranty_end", "before the purchase date"))
        status = (_text(row.get("status")) or "in_use").lower().replace(" ", "_")
        if status not in DEVICE_STATUSES:
            problems.append(
                Problem(line, "status", f"{status!r} is not one of {', '.join(DEVICE_STATUSES)}")
            )
        model = _optional(row, "model", line, problems, 200)
        vendor = _optional(row, "vendor", line, problems, 200)
        serial = _optional(row, "serial", line, problems, 100)
        owner = _optional(row, "owner", line, problems, 64)
        location = _optional(row, "location", line, problems, 200)
        if len(problems) == before and asset is not None and name is not None and kind:
            found.append(
                DeviceRow(
                    line,
                    asset,
                    name,
                    kind.lower(),
                    model,
                    vendor,
                    serial,
                    purchased,
                    warranty,
                    status,
                    owner,
                    location,
                )
            )
    return found, problems


def _required(
    row: Mapping[str, Any], column: str, line: int, problems: list[Problem], limit: int
) -> str | None:
    value = _text(row.get(column))
    if value is None:
        problems.append(Problem(line, column, "required"))
        return None
    return _fits(value, column, line, problems, limit)


def _optional(
    row: Mapping[str, Any], column: str, line: int, problems: list[Problem], limit: int
) -> str | None:
    value = _text(row.get(column))
    return None if value is None else _fits(value, column, line, problems, limit)


def _fits(value: str, column: str, line: int, problems: list[Problem], limit: int) -> str | None:
    if len(value) > limit:
        problems.append(Problem(line, column, f"longer than {limit} characters"))
        return None
    return value


def _flag(cell: Any, line: int, problems: list[Problem]) -> bool:
    if isinstance(cell, bool):
        return cell
    text = (_text(cell) or "").lower()
    if text in _TRUE:
        return True
    if text not in _FALSE:
        problems.append(Problem(line, "vip", f"{text!r} is not yes or no"))
    return False


def _date(cell: Any, column: str, line: int, problems: list[Problem]) -> date | None:
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    text = _text(cell)
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append(Problem(line, column, f"{text!r} is not a date (YYYY-MM-DD)"))
        return None


# -- the database --------------------------------------------------------------------------


class _Rollback(Exception):
    """Leaves the import's transaction without committing it."""


async def import_employees(
    store: SqlTicketStore,
    path: Path,
    *,
    default_region: str,
    organisation: str | None = None,
    standard: NamingStandard = DEFAULT_STANDARD,
    warn: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Create or update the file's employees (and departments they name) in one go.

    `organisation`: the client they work for, created if missing; None: the only one in
    the database. Phones are replaced by the file's. `warn`: user names and departments
    off `standard` are warnings, not problems.
    """
    report = ImportReport("employees", dry_run=dry_run)
    table, report.problems = read_table(path, EMPLOYEE_COLUMNS)
    report.rows = len(table.rows)
    if report.problems:  # a bad header: every row would be wrong the same way
        return report
    rows, problems = check_employee_rows(
        table, default_region, standard, warnings=report.warnings if warn else None
    )
    report.problems += problems

    async def write(session: AsyncSession) -> None:
        org = await _organisation(session, organisation, report)
        if org is None or report.problems:
            return
        departments = {
            d.code: d
            for d in await session.scalars(
                select(models.Department).where(models.Department.organisation_id == org.id)
            )
        }
        # Whole tables rather than IN lists: a survey may list more keys than a
        # statement may carry parameters (32,767 on PostgreSQL).
        wanted_names = {r.username for r in rows}
        existing = {
            e.username: e
            for e in await session.scalars(
                select(models.Employee).options(selectinload(models.Employee.phones))
            )
            if e.username in wanted_names
        }
        for done, row in enumerate(rows, start=1):
            department_id = None
            if row.department is not None:
                department = departments.get(row.department)
                if department is None:
                    department = models.Department(
                        organisation_id=org.id, code=row.department, name=row.department
                    )
                    session.add(department)
                    await session.flush()
                    departments[row.department] = department
                department_id = department.id
            employee = existing.get(row.username)
            wanted = {
                "organisation_id": org.id,
                "department_id": department_id,
                "name": row.name,
                "email": row.email,
                "vip": row.vip,
            }
            if employee is None:
                employee = models.Employee(username=row.username, **wanted)
                employee.phones = _phones(row)
                session.add(employee)
                report.created += 1
            else:
                changed = _assign(employee, wanted)
                changed = _sync_phones(employee, row) or changed
                if changed:
                    report.updated += 1
                else:
                    report.unchanged += 1
            if progress is not None:
                progress(done, len(rows))
        await session.flush()

    return await _in_one_transaction(store, report, write)


async def import_devices(
    store: SqlTicketStore,
    path: Path,
    *,
    standard: NamingStandard = DEFAULT_STANDARD,
    warn: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Create or update the file's devices in one go; owners must exist already.
    `warn`: names off `standard` are warnings, not problems."""
    report = ImportReport("devices", dry_run=dry_run)
    table, report.problems = read_table(path, DEVICE_COLUMNS)
    report.rows = len(table.rows)
    if report.problems:  # a bad header: every row would be wrong the same way
        return report
    rows, problems = check_device_rows(table, standard, warnings=report.warnings if warn else None)
    report.problems += problems

    async def write(session: AsyncSession) -> None:
        # Whole tables rather than IN lists: a survey may list more keys than a
        # statement may carry parameters (32,767 on PostgreSQL).
        owner_ids = dict(
            (await session.execute(select(models.Employee.username, models.Employee.id))).all()
        )
        devices = list(await session.scalars(select(models.Device)))
        by_asset = {d.asset_tag: d for d in devices}
        holders = {d.name: d.asset_tag for d in devices}
        for row in rows:
            if row.owner is not None and row.owner not in owner_ids:
                report.problems.append(
                    Problem(row.line, "owner", f"unknown employee {row.owner!r}")
                )
            # Even if the file renames that asset too: one flush could not order the two
            # writes around the unique name, so such renames take two imports.
            holder = holders.get(row.device_name)
            if holder is not None and holder != row.asset_number:
                report.problems.append(
                    Problem(row.line, "device_name", f"{row.device_name!r} is asset {holder}'s")
                )
        if report.problems:
            return
        for done, row in enumerate(rows, start=1):
            wanted = {
                "name": row.device_name,
                "type": row.kind,
                "model": row.model,
                "vendor": row.vendor,
                "serial": row.serial,
                "purchase_date": row.purchase_date,
                "warranty_end": row.warranty_end,
                "status": row.status,
                "owner_employee_id": owner_ids[row.owner] if row.owner is not None else None,
                "location": row.location,
            }
            device = by_asset.get(row.asset_number)
            if device is None:
                session.add(models.Device(asset_tag=row.asset_number, **wanted))
                report.created += 1
            elif _assign(device, wanted):
                report.updated += 1
            else:
                report.unchanged += 1
            if progress is not None:
                progress(done, len(rows))
        await session.flush()

    return await _in_one_transaction(store, report, write)


async def _in_one_transaction(
    store: SqlTicketStore,
    report: ImportReport,
    write: Callable[[AsyncSession], Any],
) -> ImportReport:
    """Run `write` in one transaction, committed only if the report is clean and not a
    dry run. `write` adds the problems only the database can tell (an unknown owner) to
    those of the rows, and writes nothing if there are any."""
    try:
        async with store.write_transaction() as session:
            await write(session)
            if not report.written:
                raise _Rollback
    except _Rollback:
        pass
    if report.problems:
        report.created = report.updated = report.unchanged = 0
    return report


async def _organisation(
    session: AsyncSession, name: str | None, report: ImportReport
) -> models.Organisation | None:
    if name is not None:
        org = await session.scalar(
            select(models.Organisation).where(models.Organisation.name == name)
        )
        if org is None:
            org = models.Organisation(name=name)
            session.add(org)
            await session.flush()
        return org
    found = list(await session.scalars(select(models.Organisation).limit(2)))
    if len(found) == 1:
        return found[0]
    what = "no organisation yet" if not found else "several organisations"
    report.problems.append(Problem(0, None, f"{what}: name one with --organisation"))
    return None


def _phones(row: EmployeeRow) -> list[models.EmployeePhone]:
    return [models.EmployeePhone(number_raw=raw, number_e164=e164) for raw, e164 in row.phones]


def _sync_phones(employee: models.Employee, row: EmployeeRow) -> bool:
    """Make the employee's numbers the row's, keeping the rows of numbers that stay (a
    number removed and added again in one flush would trip the unique key)."""
    wanted = {e164: raw for raw, e164 in row.phones}
    changed = False
    kept: list[models.EmployeePhone] = []
    for phone in employee.phones:
        raw = wanted.pop(phone.number_e164, None)
        if raw is None:
            changed = True
            continue
        if phone.number_raw != raw:
            phone.number_raw = raw
            changed = True
        kept.append(phone)
    if wanted or changed:
        employee.phones = kept + [
            models.EmployeePhone(number_raw=raw, number_e164=e164) for e164, raw in wanted.items()
        ]
        return True
    return False


def _assign(target: Any, values: Mapping[str, Any]) -> bool:
    """Set the attributes that differ; True if any did."""
    changed = False
    for name, value in values.items():
        if getattr(target, name) != value:
            setattr(target, name, value)
            changed = True
    return changed


def problems_text(problems: Sequence[Problem], warnings: Sequence[Problem] = ()) -> list[str]:
    """The report's lines, in file order; warnings say so."""
    lines = [(p, "") for p in problems] + [(w, "warning: ") for w in warnings]
    lines.sort(key=lambda found: (found[0].line, found[0].column or "", found[1]))
    return [
        str(Problem(p.line, p.column, f"{prefix}{p.message}")) if prefix else str(p)
        for p, prefix in lines
    ]
