"""The ticket database at a large client's size: 100,000 employees, 300,000 items and
1,000,000 tickets on PostgreSQL, and what an agent waits for.

A throw-away database is created (and dropped afterwards), migrated, and filled with COPY
(asyncpg): employees with phones typed in the messy ways people type them, their devices,
two years of tickets with one call record each, and a few thousand knowledge-base
articles. Then, through the code the service runs:

- screen pop: `screen_pop.lookup`, the hub's lookup for an offered call (employee by
  phone, their devices, open and last five closed tickets, knowledge-base suggestions,
  known errors: `SqlTicketStore.screen_pop`, one read transaction), for random callers
  one after the other; p50/p99;
- unknown callers: the same lookup for numbers no employee has, half of them written in
  some tickets (`ticket_phone`, the "maybe" list);
- ticket creation: what the call flow does for an answered call of a known caller
  (`open_call_record`, then `attach_call_to_incident`, which opens the incident with its
  SLA clocks and audit trail); tickets per second, one call after the other;
- knowledge-base search: `SqlKnowledgeBase.search` with two random words; p50/p99.

When the screen pop's p99 is over its aim (10 ms), the plans of its queries are printed
(EXPLAIN ANALYZE) to show why.

    python -m benchmarks.ticket_bench                # full size (about 1,000,000 tickets)
    python -m benchmarks.ticket_bench --scale 0.01   # 1 %: seconds
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from benchmarks.ws_bench import spread
from callcenter.api.websocket import screen_pop
from callcenter.db.migrate import upgrade
from callcenter.directory.phone import normalise
from callcenter.knowledge.store import SqlKnowledgeBase
from callcenter.reports.model import Month, compute
from callcenter.reports.render import write
from callcenter.reports.store import gather
from callcenter.tickets.store import SqlTicketStore, open_store
from callcenter.tickets.workflow import OPEN_STATUSES

SERVER = os.environ.get("CALLCENTER_BENCH_POSTGRES", "postgres@127.0.0.1:5432")
EMPLOYEES = 100_000
ITEMS = 300_000
TICKETS = 1_000_000
ARTICLES = 3_000
#: Employees per department; every department has a shared line.
DEPARTMENT_SIZE = 50
SCREEN_POP_AIM_MS = 10.0
#: "Now" of the generated history: tickets span the two years before it.
NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
HISTORY = timedelta(days=730)
ATTACH_WINDOW_HOURS = 8.0

MODELS = [
    "ThinkPad T14 Gen 3",
    "ThinkPad X1 Carbon Gen 11",
    "ThinkCentre M70q",
    "Dell OptiPlex 7090",
    "Dell Latitude 5440",
    "HP EliteBook 840 G9",
    "HP ProDesk 400 G7",
    "HP LaserJet Pro M404dn",
    "Brother HL-L5100DN",
    "Canon imageRUNNER 2625i",
    "Lenovo V15 G3",
    "Huawei MateBook 14",
    "Dell P2422H",
    "Cisco IP Phone 7821",
    "Yealink T46U",
]
TYPES = {
    "Brother": "printer",
    "Canon": "printer",
    "LaserJet": "printer",
    "Phone": "phone",
    "Yealink": "phone",
    "P2422H": "monitor",
    "ThinkCentre": "desktop",
    "OptiPlex": "desktop",
    "ProDesk": "desktop",
}
CATEGORIES = ["hardware", "software", "network", "printer", "account", "email", "phone"]
#: Words of ticket subjects and article titles, and what callers search for.
WORDS = [
    "printer", "paper", "jam", "toner", "driver", "install", "network", "vpn", "wifi",
    "password", "reset", "account", "locked", "outlook", "email", "calendar", "screen",
    "blue", "crash", "slow", "disk", "full", "backup", "restore", "keyboard", "mouse",
    "monitor", "flicker", "docking", "station", "battery", "charger", "update", "windows",
    "office", "excel", "word", "teams", "meeting", "camera", "microphone", "sound", "share",
    "drive", "permission", "certificate", "browser", "proxy",
]  # fmt: skip
#: The rest of an article's body: error codes and part names, rarely searched.
FILLER = [f"{p}{n}" for p in ("err", "kb", "part", "setting", "step") for n in range(400)]
STATUSES = [
    ("closed", 0.82),
    ("resolved", 0.08),
    ("new", 0.02),
    ("assigned", 0.03),
    ("in_progress", 0.03),
    ("waiting_customer", 0.01),
    ("cancelled", 0.01),
]


def mobile(n: int) -> str:
    """A valid Chinese mobile number (national form), unique per n."""
    return f"13{8 + n % 2}{n // 2:08d}"


def messy(national: str, rnd: random.Random) -> str:
    """The number as a person might have typed it into the asset survey."""
    a, b, c = national[:3], national[3:7], national[7:]
    forms = [
        national,
        f"{a} {b} {c}",
        f"{a}-{b}-{c}",
        f"+86 {a} {b} {c}",
        f"+86-{national}",
        f"0086 {national}",
        f"(+86) {a}-{b}{c}",
        f" {a}.{b}.{c} ",
    ]
    return rnd.choice(forms)


def landline(department: int) -> tuple[str, str]:
    """A department's shared line in Guangzhou: (as typed, E.164)."""
    local = f"8{department:07d}"
    return f"(020) {local[:4]} {local[4:]}", f"+8620{local}"


class Data:
    """The generated rows, kept only as long as COPY needs them."""

    def __init__(self, scale: float, seed: int) -> None:
        self.rnd = random.Random(seed)
        self.employees = max(20, int(EMPLOYEES * scale))
        self.items = max(60, int(ITEMS * scale))
        self.tickets = max(200, int(TICKETS * scale))
        self.articles = max(100, int(ARTICLES * scale))
        self.departments = max(1, self.employees // DEPARTMENT_SIZE)
        #: employee id -> its own mobile in E.164, the numbers callers call from.
        self.mobiles: list[str] = []
        self.owner_of: list[int] = []  # item index -> employee id
        self.items_of: dict[int, list[int]] = {}
        #: Numbers of people who are no employee, written in some tickets' text (E.164).
        self.outsiders: list[str] = []


async def generate(conn: asyncpg.Connection, data: Data) -> dict[str, int]:
    """Every table the lookups read, filled by COPY; returns the row counts."""
    rnd = data.rnd
    await conn.copy_records_to_table(
        "organisation",
        records=[(1, "Bench Corp", "standard")],
        columns=["id", "name", "sla_policy"],
    )
    await conn.copy_records_to_table(
        "department",
        records=[(d, 1, f"D{d:04d}", f"Department {d}") for d in range(1, data.departments + 1)],
        columns=["id", "organisation_id", "code", "name"],
    )
    employees, phones = [], []
    for e in range(1, data.employees + 1):
        department = 1 + (e - 1) % data.departments
        employees.append(
            (e, 1, department, f"emp{e:06d}", f"Employee {e}", None, rnd.random() < 0.02)
        )
        national = mobile(e)
        e164 = f"+86{national}"
        data.mobiles.append(e164)
        phones.append((e, messy(national, rnd), e164))
        if rnd.random() < 0.3:  # the department's shared line too
            raw, line = landline(department)
            phones.append((e, raw, line))
    for employee_id, raw, e164 in phones[:500]:
        assert normalise(raw, "CN") == e164, (employee_id, raw, e164)
    await conn.copy_records_to_table(
        "employee",
        records=employees,
        columns=["id", "organisation_id", "department_id", "username", "name", "email", "vip"],
    )
    await conn.copy_records_to_table(
        "employee_phone", records=phones, columns=["employee_id", "number_raw", "number_e164"]
    )
    devices = []
    for i in range(1, data.items + 1):
        owner = rnd.randint(1, data.employees)
        model = rnd.choice(MODELS)
        kind = next((t for key, t in TYPES.items() if key in model), "laptop")
        bought = date(2020, 1, 1) + timedelta(days=rnd.randrange(2190))
        devices.append(
            (
                i,
                f"{i:010d}",
                f"BEN-{i:07d}",
                kind,
                model,
                model.split()[0],
                f"SN{i:09d}",
                bought,
                bought + timedelta(days=365 * 3),
                owner,
            )
        )
        data.items_of.setdefault(owner, []).append(i)
    await conn.copy_records_to_table(
        "device",
        records=devices,
        columns=[
            "id",
            "asset_tag",
            "name",
            "type",
            "model",
            "vendor",
            "serial",
            "purchase_date",
            "warranty_end",
            "owner_employee_id",
        ],
    )
    del devices
    statuses = [s for s, _ in STATUSES]
    weights = [w for _, w in STATUSES]
    tickets, calls = [], []
    span = HISTORY.total_seconds()
    for t in range(1, data.tickets + 1):
        employee = rnd.randint(1, data.employees)
        owned = data.items_of.get(employee)
        device = rnd.choice(owned) if owned and rnd.random() < 0.7 else None
        created = NOW - HISTORY + timedelta(seconds=span * t / data.tickets)
        status = rnd.choices(statuses, weights)[0]
        done = created + timedelta(minutes=rnd.randint(5, 5000))
        resolved = done if status in ("resolved", "closed") else None
        closed = done + timedelta(days=3) if status == "closed" else None
        updated = closed or resolved or created + timedelta(minutes=rnd.randint(0, 60))
        visits = 1 if rnd.random() < 0.2 else 0
        tickets.append(
            (
                t,
                status,
                rnd.randint(1, 4),
                f"{rnd.choice(WORDS)} {rnd.choice(WORDS)} problem",
                employee,
                device,
                created,
                updated,
                resolved,
                closed,
                rnd.choice(CATEGORIES),
                1 + visits + (rnd.random() < 0.25),
                visits,
                rnd.random() < 0.72 if resolved else None,
            )
        )
        calls.append(
            (
                str(uuid.UUID(int=rnd.getrandbits(128))),
                data.mobiles[employee - 1],
                employee,
                "helpdesk",
                created - timedelta(seconds=30),
                created - timedelta(seconds=10),
                created,
                created + timedelta(minutes=5),
                "answered",
                round(rnd.uniform(1, 60), 3),
                t,
                "{}",
            )
        )
    await conn.copy_records_to_table(
        "ticket",
        records=tickets,
        columns=[
            "id",
            "status",
            "priority",
            "subject",
            "employee_id",
            "device_id",
            "created_at",
            "updated_at",
            "resolved_at",
            "closed_at",
            "category",
            "contacts",
            "onsite_visits",
            "first_contact_resolved",
        ],
    )
    del tickets
    # One ticket in 200 mentions an outsider's number (a contractor, a fax line), the way
    # an agent types it: the screen pop's "maybe" for callers no employee record has.
    outsiders = max(10, data.tickets // 400)
    data.outsiders = [f"+86{mobile(data.employees + 1 + k)}" for k in range(outsiders)]
    mentions = {}
    chosen = rnd.sample(range(1, data.tickets + 1), min(data.tickets, 2 * outsiders))
    for n, t in enumerate(chosen):
        number = data.outsiders[n % outsiders]  # each outsider in two tickets
        mentions[(t, number)] = (t, "ticket", number, messy(number[3:], rnd).strip())
    await conn.copy_records_to_table(
        "ticket_phone",
        records=list(mentions.values()),
        columns=["ticket_id", "source", "number_e164", "as_written"],
    )
    await conn.copy_records_to_table(
        "call_record",
        records=calls,
        columns=[
            "id",
            "caller",
            "employee_id",
            "queue",
            "arrived_at",
            "enqueued_at",
            "answered_at",
            "ended_at",
            "outcome",
            "pickup_latency_seconds",
            "ticket_id",
            "media",
        ],
    )
    del calls
    articles, targets = [], []
    for a in range(1, data.articles + 1):
        words = rnd.sample(WORDS, 12)
        model = rnd.choice(MODELS)
        articles.append(
            (
                a,
                f"How to fix {words[0]} {words[1]} on {model}"[:200],
                " ".join(rnd.choices(WORDS, k=8) + rnd.choices(FILLER, k=72)),
                rnd.choice(CATEGORIES),
                model,
                rnd.randint(0, 50),
                NOW - timedelta(days=rnd.randrange(700)),
                NOW,
            )
        )
        targets.append((a, "model", model, model.lower()))
    await conn.copy_records_to_table(
        "kb_article",
        records=articles,
        columns=[
            "id",
            "title",
            "body",
            "category",
            "applies_text",
            "use_count",
            "created_at",
            "updated_at",
        ],
    )
    await conn.copy_records_to_table(
        "kb_article_target", records=targets, columns=["article_id", "kind", "name", "name_key"]
    )
    for table in ("organisation", "department", "employee", "device", "ticket", "kb_article"):
        await conn.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
        )
    await conn.execute("ANALYZE")
    return {
        "employees": data.employees,
        "employee_phones": len(phones),
        "items": data.items,
        "tickets": data.tickets,
        "call_records": data.tickets,
        "kb_articles": data.articles,
        "ticket_phones": len(mentions),
    }


async def time_screen_pop(
    store: SqlTicketStore, kb: SqlKnowledgeBase, data: Data, callers: int
) -> tuple[list[float], int, float]:
    """Latencies of the hub's lookup for random callers, how many found their employee, and
    the bench process's own CPU seconds per lookup (SQLAlchemy, asyncpg, the lookup)."""
    rnd = random.Random(1)
    now = NOW.timestamp()
    latencies, found = [], 0
    cpu = time.process_time()
    for _ in range(callers):
        caller = rnd.choice(data.mobiles)
        started = time.perf_counter()
        pop = await screen_pop.lookup(store, caller, now, kb)
        latencies.append(time.perf_counter() - started)
        found += pop["employee"] is not None
    return latencies, found, (time.process_time() - cpu) / max(callers, 1)


async def time_maybe(
    store: SqlTicketStore, kb: SqlKnowledgeBase, data: Data, callers: int
) -> tuple[list[float], int]:
    """Latencies of the lookup for numbers no employee has: half of them written in some
    tickets (the "maybe" list), half nowhere; and how many got a maybe list."""
    rnd = random.Random(4)
    now = NOW.timestamp()
    latencies, found = [], 0
    for n in range(callers):
        caller = (
            rnd.choice(data.outsiders)
            if n % 2 == 0
            else f"+86{mobile(10**7 + rnd.randrange(10**6))}"
        )
        started = time.perf_counter()
        pop = await screen_pop.lookup(store, caller, now, kb)
        latencies.append(time.perf_counter() - started)
        found += bool(pop["maybe"])
    return latencies, found


async def time_screen_pop_parts(
    store: SqlTicketStore, kb: SqlKnowledgeBase, data: Data, callers: int
) -> dict[str, dict[str, float | int]]:
    """The separate store calls the lookup was made of before it became one read
    transaction (kept for comparison: each is its own transaction of ORM objects)."""
    rnd = random.Random(1)
    parts: dict[str, list[float]] = {"find_employees_by_phone": [], "devices_of": []}
    parts |= {"tickets_of": [], "suggest_for_employee": []}
    for _ in range(callers):
        caller = rnd.choice(data.mobiles)
        started = time.perf_counter()
        (employee,) = await store.find_employees_by_phone(caller)
        parts["find_employees_by_phone"].append(time.perf_counter() - started)
        for name, call in (
            ("devices_of", store.devices_of(employee.id)),
            ("tickets_of", store.tickets_of(employee.username)),
            (
                "suggest_for_employee",
                kb.suggest_for_employee(employee.id, screen_pop.KB_SUGGESTIONS),
            ),
        ):
            started = time.perf_counter()
            await call
            parts[name].append(time.perf_counter() - started)
    return {name: spread(values, digits=2) for name, values in parts.items()}


async def time_ticket_creation(store: SqlTicketStore, data: Data, count: int) -> dict[str, Any]:
    """Answered calls of known callers, as the call flow records them, one after another."""
    rnd = random.Random(2)
    callers = rnd.sample(range(1, data.employees + 1), min(count, data.employees))
    created = 0
    started = time.perf_counter()
    for n, employee in enumerate(callers):
        now = NOW + timedelta(days=1, seconds=n)
        call_id = str(uuid.uuid4())
        await store.open_call_record(call_id, None, data.mobiles[employee - 1], employee, now)
        ticket_id = await store.attach_call_to_incident(call_id, employee, now, ATTACH_WINDOW_HOURS)
        created += ticket_id is not None and ticket_id > data.tickets
    seconds = time.perf_counter() - started
    return {
        "calls": len(callers),
        "tickets_created": created,
        "seconds": round(seconds, 2),
        "per_second": round(len(callers) / seconds, 1) if seconds > 0 else None,
    }


async def time_kb_search(kb: SqlKnowledgeBase, searches: int) -> list[float]:
    rnd = random.Random(3)
    latencies = []
    for _ in range(searches):
        text = " ".join(rnd.sample(WORDS, 2))
        started = time.perf_counter()
        await kb.search(text, limit=10)
        latencies.append(time.perf_counter() - started)
    return latencies


async def time_report(store: SqlTicketStore) -> dict[str, Any]:
    """The monthly client report of the last generated month, as `callcenter report` makes it."""
    started = time.perf_counter()
    inputs = await gather(store, "Bench Corp", Month.of(NOW), {"helpdesk": 20.0}, NOW)
    read = time.perf_counter() - started
    figures = compute(inputs)
    with tempfile.TemporaryDirectory(prefix="ticket-bench-report-") as out:
        files = write(figures, Path(out))
    return {
        "tickets_read": len(inputs.tickets),
        "calls_read": len(inputs.calls),
        "files": len(files),
        "query_seconds": round(read, 2),
        "total_seconds": round(time.perf_counter() - started, 2),
    }


async def explain_screen_pop(conn: asyncpg.Connection, data: Data) -> dict[str, list[str]]:
    """The plans of the screen pop's queries for one caller (EXPLAIN ANALYZE)."""
    employee = data.employees // 2
    open_ = ", ".join(f"'{status.value}'" for status in sorted(OPEN_STATUSES))
    queries = {
        "employee_by_phone": (
            "SELECT e.* FROM employee e WHERE e.id IN (SELECT employee_id FROM employee_phone"
            f" WHERE number_e164 = '{data.mobiles[employee - 1]}')"
        ),
        "devices_of": f"SELECT * FROM device WHERE owner_employee_id = {employee} ORDER BY name",
        "tickets_of": (
            "SELECT t.* FROM ticket t JOIN employee e ON e.id = t.employee_id"
            f" WHERE e.username = 'emp{employee:06d}' ORDER BY t.created_at DESC, t.id DESC"
        ),
        "kb_for_models": (
            "SELECT id FROM kb_article WHERE id IN (SELECT article_id FROM kb_article_target"
            f" WHERE kind = 'model' AND name_key IN ('{MODELS[0].lower()}',"
            f" '{MODELS[1].lower()}')) ORDER BY use_count DESC, title, id LIMIT 3"
        ),
        "screen_pop_tickets": (
            f"SELECT id, status, category FROM ticket WHERE employee_id = {employee} AND"
            f" (status IN ({open_}) OR id IN (SELECT id FROM ticket WHERE employee_id ="
            f" {employee} AND status NOT IN ({open_}) ORDER BY updated_at DESC, id DESC"
            " LIMIT 5))"
        ),
        "maybe_by_number": (
            "SELECT t.id, t.subject, p.as_written FROM ticket_phone p JOIN ticket t"
            f" ON t.id = p.ticket_id WHERE p.number_e164 = '{data.outsiders[0]}'"
            " ORDER BY t.updated_at DESC, t.id DESC LIMIT 20"
        ),
        "calls_of_tickets": (
            "SELECT ticket_id, id FROM call_record WHERE ticket_id IN"
            f" (SELECT id FROM ticket WHERE employee_id = {employee})"
        ),
    }
    plans = {}
    for name, sql in queries.items():
        rows = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        plans[name] = [row[0] for row in rows]
    return plans


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    name = f"ticket_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(f"postgresql://{SERVER}/postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+asyncpg://{SERVER}/{name}"
    try:
        await upgrade(url)
        data = Data(args.scale, args.seed)
        conn = await asyncpg.connect(f"postgresql://{SERVER}/{name}")
        try:
            started = time.perf_counter()
            counts = await generate(conn, data)
            generation = time.perf_counter() - started
            store = open_store(url, "CN")
            kb = SqlKnowledgeBase(store)
            try:
                await screen_pop.lookup(store, data.mobiles[0], NOW.timestamp(), kb)  # warm up
                load_before = os.getloadavg()[0]
                pops, found, cpu = await time_screen_pop(store, kb, data, args.callers)
                parts = await time_screen_pop_parts(store, kb, data, min(args.callers, 500))
                maybes, maybe_found = await time_maybe(store, kb, data, args.callers)
                creation = await time_ticket_creation(store, data, args.creates)
                searches = await time_kb_search(kb, args.searches)
                report = await time_report(store)
                load_after = os.getloadavg()[0]
            finally:
                await store.close()
            pop = spread(pops, digits=2)
            plans = None
            if args.explain or float(pop.get("p99", 0)) > SCREEN_POP_AIM_MS:
                plans = await explain_screen_pop(conn, data)
        finally:
            await conn.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    return {
        "database": name,
        "scale": args.scale,
        "rows": counts,
        "generation_seconds": round(generation, 1),
        "screen_pop_ms": pop,
        "screen_pop_found": found,
        "screen_pop_client_cpu_ms": round(1000 * cpu, 2),
        "screen_pop_aim_ms": SCREEN_POP_AIM_MS,
        "screen_pop_parts_ms": parts,
        "screen_pop_unknown_ms": spread(maybes, digits=2),
        "screen_pop_unknown_with_maybe": maybe_found,
        "ticket_creation": creation,
        "kb_search_ms": spread(searches, digits=2),
        "monthly_report": report,
        "load_average_1min": [round(load_before, 2), round(load_after, 2)],
        "plans": plans,
    }


async def main(args: argparse.Namespace) -> dict[str, Any]:
    result = await measure(args)
    report = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()} {os.cpu_count()} cores, {platform.platform()}",
        **result,
    }
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2))
    print(json.dumps({k: v for k, v in report.items() if k != "plans"}, indent=2))
    for query, lines in (report["plans"] or {}).items():
        print(f"-- {query}\n" + "\n".join(lines))
    return report


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scale", type=float, default=1.0, help="fraction of the full size (0.01: 1 %%)"
    )
    parser.add_argument("--callers", type=int, default=2000, help="screen pops timed")
    parser.add_argument("--creates", type=int, default=1000, help="tickets opened by calls")
    parser.add_argument("--searches", type=int, default=1000, help="knowledge-base searches")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--explain", action="store_true", help="print the query plans anyway")
    parser.add_argument("--out", type=Path, default=Path("var/bench/ticket_bench.json"))
    args = parser.parse_args(argv)
    if not 0 < args.scale <= 1:
        parser.error("--scale must be in (0, 1]")
    return args


def run_cli(argv: list[str] | None = None) -> dict[str, Any]:
    return asyncio.run(main(parse(argv)))


if __name__ == "__main__":
    run_cli()
