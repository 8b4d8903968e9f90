"""A small client company to try the desk with: employees, their devices, three agents,
a few knowledge-base articles for those devices, and the CMDB around them: a software
installation, relations between items, maintenance history and a department's
maintenance plan; `load_demo_repair` adds a printer away at the vendor's repair centre on
a ticket.

Names follow the case study's naming standard (user `zhangsanKJC`, device `KJC-COM-0001`,
asset number `0000COM0001`). Loading is idempotent: each row is keyed by its unique name
and only added when missing, so running it again (or after a partial run) changes nothing.
Phone numbers are typed the way people write them, exercising normalisation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from callcenter.auth.passwords import hash_password
from callcenter.db import models
from callcenter.directory.phone import normalise
from callcenter.knowledge.store import set_targets
from callcenter.tickets.records import Role
from callcenter.tickets.store import SqlTicketStore

#: The demo company's numbers are Chinese, whatever region the desk is configured for.
DEMO_REGION = "CN"
ORGANISATION = "Demo Corp"


@dataclass(frozen=True)
class _Department:
    code: str
    name: str


@dataclass(frozen=True)
class _Employee:
    username: str
    name: str
    department: str
    email: str
    phones: tuple[str, ...]
    vip: bool = False


@dataclass(frozen=True)
class _Device:
    name: str
    asset_tag: str
    type: str
    model: str
    vendor: str
    serial: str
    owner: str | None
    age_days: int
    warranty_years_left: int
    maintainer: str | None = None


@dataclass(frozen=True)
class _Agent:
    username: str
    display_name: str
    password: str
    role: Role
    sip_uri: str | None
    queues: tuple[str, ...]
    #: Skill -> level 1-10, matched against what the IVR menu choice asks for.
    skills: tuple[tuple[str, int], ...] = ()


#: Shared by Li Si and Wang Wu: a call from it identifies two people.
KJC_OFFICE_LINE = "020 8888 1000"

DEPARTMENTS = (
    _Department("KJC", "Traffic Police IT"),
    _Department("CGS", "Vehicle Administration"),
)

EMPLOYEES = (
    _Employee("zhangsanKJC", "Zhang San", "KJC", "zhangsan@demo-corp.example", ("020-8888 1001",)),
    _Employee(
        "lisiKJC", "Li Si", "KJC", "lisi@demo-corp.example", ("(020) 8888/1002", KJC_OFFICE_LINE)
    ),
    _Employee(
        "wangwuKJC",
        "Wang Wu",
        "KJC",
        "wangwu@demo-corp.example",
        ("+86 20 8888-1003", KJC_OFFICE_LINE, "138 0013 8000"),
        vip=True,  # head of the IT division
    ),
    _Employee("zhaoliuCGS", "Zhao Liu", "CGS", "zhaoliu@demo-corp.example", ("0086 20 8888 2001",)),
)

PC_MAINTAINER = "Guangzhou PC Service Co."
PRINTER_MAINTAINER = "Pearl River Office Equipment"

DEVICES = (
    _Device(
        "KJC-COM-0001",
        "0000COM0001",
        "desktop",
        "ThinkCentre M920t",
        "Lenovo",
        "PC0XK1A1",
        "zhangsanKJC",
        age_days=30,
        warranty_years_left=2,
        maintainer=PC_MAINTAINER,
    ),
    _Device(
        "KJC-PRN-0001",
        "0000PRN0001",
        "printer",
        "LaserJet Pro M404dn",
        "HP",
        "PHBBK40101",
        "zhangsanKJC",
        age_days=4 * 365,
        warranty_years_left=-1,
    ),
    _Device(
        "KJC-COM-0002",
        "0000COM0002",
        "laptop",
        "ThinkPad T14 Gen 3",
        "Lenovo",
        "PF3NT142",
        "lisiKJC",
        age_days=400,
        warranty_years_left=1,
    ),
    _Device(
        "KJC-COM-0003",
        "0000COM0003",
        "laptop",
        "Latitude 7440",
        "Dell",
        "DL7440W3",
        "wangwuKJC",
        age_days=120,
        warranty_years_left=3,
    ),
    _Device(
        "CGS-COM-0001",
        "0001COM0001",
        "desktop",
        "OptiPlex 7010",
        "Dell",
        "DO7010C1",
        "zhaoliuCGS",
        age_days=5 * 365,
        warranty_years_left=-2,
        maintainer=PC_MAINTAINER,
    ),
    _Device(
        "CGS-PRN-0001",
        "0001PRN0001",
        "printer",
        "ECOSYS M2540dn",
        "Kyocera",
        "KY2540P2",
        None,
        age_days=2 * 365,
        warranty_years_left=1,
        maintainer=PRINTER_MAINTAINER,
    ),
    # A software installation is an item of its own, installed on a computer.
    _Device(
        "KJC-SOF-0001",
        "0000SOF0001",
        "software",
        "Microsoft 365 Apps",
        "Microsoft",
        "M365-KJC-0001",
        None,
        age_days=30,
        warranty_years_left=1,
    ),
)

AGENTS = (
    _Agent(
        "alice",
        "Alice",
        "alice-demo",
        Role.AGENT,
        "sip:alice@127.0.0.1:5062",
        ("helpdesk",),
        (("accounts", 8), ("software", 7), ("general", 5)),
    ),
    _Agent(
        "bob",
        "Bob",
        "bob-demo",
        Role.AGENT,
        "sip:bob@127.0.0.1:5063",
        ("helpdesk",),
        (("hardware", 8), ("general", 6), ("software", 3)),
    ),
    # Sue's phone rings when she listens to, whispers to or barges into a call.
    _Agent("sue", "Sue", "sue-demo", Role.SUPERVISOR, "sip:sue@127.0.0.1:5064", ()),
)


def published_passwords() -> dict[str, str]:
    """Username -> the demo password anyone who read the README knows."""
    return {agent.username: agent.password for agent in AGENTS}


@dataclass(frozen=True)
class _Article:
    title: str
    body: str
    category: str
    models: tuple[str, ...] = ()
    software: tuple[str, ...] = ()


ARTICLES = (
    _Article(
        "Printer shows a paper jam but no paper is stuck",
        "Open the rear access door and the toner door, take out the toner cartridge and look "
        "for torn scraps in the roller. Close every door firmly: an open door sensor is often "
        "reported as a jam. Power the printer off and on.",
        "printing",
        models=("LaserJet Pro M404dn", "ECOSYS M2540dn"),
    ),
    _Article(
        "Cannot print: the print queue is stuck",
        "Restart the Print Spooler service (services.msc), delete the stuck jobs from the "
        "queue and print a test page. If the printer is offline, check its network cable.",
        "printing",
        software=("Windows 10", "Windows 11"),
    ),
    _Article(
        "ThinkPad does not charge or turn on",
        "Disconnect the charger, hold the power button for 15 seconds, reconnect the charger "
        "and wait for the LED. A pinhole reset on the bottom cover resets the battery.",
        "hardware",
        models=("ThinkPad T14 Gen 3",),
    ),
    _Article(
        "Outlook asks for the password again and again",
        "Remove the saved credentials from Windows Credential Manager, restart Outlook and "
        "sign in once. Check that the account is not locked in the directory.",
        "accounts",
        software=("Outlook",),
    ),
    _Article(
        "Desktop is slow after starting up",
        "Open Task Manager, sort by CPU and disk, and disable the start-up programs the user "
        "does not need. Check the free disk space and run the vendor's diagnostics.",
        "hardware",
        models=("ThinkCentre M920t", "OptiPlex 7010"),
        software=("Windows 10",),
    ),
)


def years_after(day: date, years: int) -> date:
    """The same calendar day `years` later (or earlier); 29 February becomes the 28th."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


async def load_demo(target: SqlTicketStore | AsyncEngine, today: date | None = None) -> int:
    """Add whatever demo rows are missing; returns how many rows were added."""
    store = target if isinstance(target, SqlTicketStore) else SqlTicketStore(target, DEMO_REGION)
    today = today or date.today()
    async with store.write_transaction() as session:
        return await _load(session, today)


async def _load(session: AsyncSession, today: date) -> int:
    added = 0
    organisation = await session.scalar(
        select(models.Organisation).where(models.Organisation.name == ORGANISATION)
    )
    if organisation is None:
        organisation = models.Organisation(name=ORGANISATION)
        session.add(organisation)
        await session.flush()
        added += 1

    departments: dict[str, models.Department] = {}
    for spec in DEPARTMENTS:
        department = await session.scalar(
            select(models.Department).where(
                models.Department.organisation_id == organisation.id,
                models.Department.code == spec.code,
            )
        )
        if department is None:
            department = models.Department(
                organisation_id=organisation.id, code=spec.code, name=spec.name
            )
            session.add(department)
            await session.flush()
            added += 1
        departments[spec.code] = department

    employees: dict[str, int] = {}
    for person in EMPLOYEES:
        employee = await session.scalar(
            select(models.Employee).where(models.Employee.username == person.username)
        )
        if employee is None:
            employee = models.Employee(
                organisation_id=organisation.id,
                department_id=departments[person.department].id,
                username=person.username,
                name=person.name,
                email=person.email,
                vip=person.vip,
            )
            session.add(employee)
            await session.flush()
            added += 1
        employees[person.username] = employee.id
        added += await _add_phones(session, employee.id, person.phones)

    for item in DEVICES:
        exists = await session.scalar(
            select(models.Device.id).where(models.Device.name == item.name)
        )
        if exists is None:
            purchased = today - timedelta(days=item.age_days)
            session.add(
                models.Device(
                    asset_tag=item.asset_tag,
                    name=item.name,
                    type=item.type,
                    model=item.model,
                    vendor=item.vendor,
                    serial=item.serial,
                    purchase_date=purchased,
                    warranty_end=years_after(today, item.warranty_years_left),
                    status="in_use",
                    owner_employee_id=None if item.owner is None else employees[item.owner],
                    maintainer=item.maintainer,
                )
            )
            added += 1

    for agent in AGENTS:
        exists = await session.scalar(
            select(models.Agent.id).where(models.Agent.username == agent.username)
        )
        if exists is None:
            session.add(
                models.Agent(
                    username=agent.username,
                    display_name=agent.display_name,
                    password_hash=hash_password(agent.password),
                    role=agent.role.value,
                    sip_uri=agent.sip_uri,
                    queues=list(agent.queues),
                    skills=dict(agent.skills),
                )
            )
            added += 1

    for article_spec in ARTICLES:
        exists = await session.scalar(
            select(models.KbArticle.id).where(models.KbArticle.title == article_spec.title)
        )
        if exists is None:
            written = datetime.combine(today, time(), tzinfo=UTC)
            article = models.KbArticle(
                title=article_spec.title,
                body=article_spec.body,
                category=article_spec.category,
                author="sue",
                use_count=0,
                created_at=written,
                updated_at=written,
            )
            set_targets(article, article_spec.models, article_spec.software)
            session.add(article)
            added += 1 + len(article.targets)
    await session.flush()
    return added + await _load_cmdb(session, today, departments)


#: (item, kind, other): the software on Zhang San's PC, printers cabled to PCs.
RELATIONS = (
    ("KJC-SOF-0001", "installed_on", "KJC-COM-0001"),
    ("KJC-PRN-0001", "connected_to", "KJC-COM-0001"),
    ("CGS-COM-0001", "connected_to", "CGS-PRN-0001"),
)
#: (item, kind, days ago, by, notes): the notes key a record, so it is added once.
MAINTENANCE = (
    ("CGS-COM-0001", "preventive", 150, PC_MAINTAINER, "Cleaned fans, updated the BIOS."),
    ("KJC-PRN-0001", "preventive", 200, PRINTER_MAINTAINER, "Replaced the pickup roller."),
    ("KJC-COM-0002", "repair", 60, "Lenovo", "Keyboard replaced under warranty."),
)
#: The IT department services its PCs every 3 months rather than the default 4.
PLANS = (("KJC", "pc", 90),)
REPAIR_SUBJECT = "CGS printer prints grey streaks"


async def _load_cmdb(
    session: AsyncSession, today: date, departments: dict[str, models.Department]
) -> int:
    added = 0
    ids = dict((await session.execute(select(models.Device.name, models.Device.id))).all())
    midnight = datetime.combine(today, time(), tzinfo=UTC)
    for item, kind, other in RELATIONS:
        key = (ids[item], ids[other], kind)
        if await session.get(models.CiRelation, key) is None:
            session.add(
                models.CiRelation(
                    item_id=key[0],
                    other_id=key[1],
                    kind=kind,
                    created_at=midnight,
                    created_by="sue",
                )
            )
            added += 1
    for item, kind, days_ago, by, notes in MAINTENANCE:
        exists = await session.scalar(
            select(models.MaintenanceRecord.id).where(
                models.MaintenanceRecord.item_id == ids[item],
                models.MaintenanceRecord.notes == notes,
            )
        )
        if exists is None:
            session.add(
                models.MaintenanceRecord(
                    item_id=ids[item],
                    kind=kind,
                    done_at=midnight - timedelta(days=days_ago) + timedelta(hours=10),
                    by=by,
                    notes=notes,
                    recorded_by="sue",
                )
            )
            added += 1
    for code, category, days in PLANS:
        department_id = departments[code].id
        exists = await session.scalar(
            select(models.MaintenancePlan.id).where(
                models.MaintenancePlan.department_id == department_id,
                models.MaintenancePlan.category == category,
            )
        )
        if exists is None:
            session.add(
                models.MaintenancePlan(
                    department_id=department_id, category=category, interval_days=days
                )
            )
            added += 1
    return added


async def load_demo_repair(store: SqlTicketStore, today: date | None = None) -> int:
    """A printer under warranty away at the vendor's repair centre: a ticket, its repair
    task and the printer in repair. Apart from `load_demo`, so that tests counting on a
    desk without tickets keep one; `callcenter demo load` adds it. Returns rows added."""
    today = today or date.today()
    midnight = datetime.combine(today, time(), tzinfo=UTC)
    added = 0
    async with store.write_transaction() as session:
        ids = dict((await session.execute(select(models.Device.name, models.Device.id))).all())
        ticket_id = await session.scalar(
            select(models.Ticket.id).where(models.Ticket.subject == REPAIR_SUBJECT)
        )
        if ticket_id is None:
            opened = midnight - timedelta(days=2) + timedelta(hours=9)
            printer = ids["CGS-PRN-0001"]
            ticket = models.Ticket(
                kind="incident",
                status="waiting_vendor",
                priority=3,
                subject=REPAIR_SUBJECT,
                description="Sent to the Kyocera repair centre under warranty.",
                device_id=printer,
                created_at=opened,
                updated_at=opened + timedelta(hours=2),
                tier="tier3_vendor_senior",
                contacts=1,
            )
            session.add(ticket)
            await session.flush()
            session.add(
                models.RepairTaskRecord(
                    ticket_id=ticket.id,
                    item_id=printer,
                    in_warranty=True,
                    state="at_vendor",
                    created_at=opened + timedelta(hours=1),
                    created_by="bob",
                    updated_at=opened + timedelta(hours=2),
                )
            )
            device = await session.get(models.Device, printer)
            assert device is not None
            device.status = "in_repair"
            added += 2
        return added


async def _add_phones(session: AsyncSession, employee_id: int, raw_numbers: tuple[str, ...]) -> int:
    known = set(
        await session.scalars(
            select(models.EmployeePhone.number_e164).where(
                models.EmployeePhone.employee_id == employee_id
            )
        )
    )
    added = 0
    for raw in raw_numbers:
        e164 = normalise(raw, DEMO_REGION)
        if e164 is None:
            raise ValueError(f"demo phone number {raw!r} does not normalise")
        if e164 not in known:
            session.add(
                models.EmployeePhone(employee_id=employee_id, number_raw=raw, number_e164=e164)
            )
            known.add(e164)
            added += 1
    return added
