"""The ticket database's tables, as SQLAlchemy maps them.

The Alembic migrations in `migrations/versions` create exactly this schema (a test
compares them); a change here needs a new migration.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from callcenter.cmdb.model import category_for_type

#: Explicit constraint names, so migrations can refer to them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out, on every database.

    SQLite has no time zones: it would hand back naive datetimes, and comparing those
    with aware ones raises. Naive input is refused rather than guessed at.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()}: timestamps must be aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UtcDateTime, dict[str, Any]: JSON, list[str]: JSON}


class Organisation(Base):
    """The client company the desk serves."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    #: Name of the SLA policy its tickets are timed against (`standard`, `premium`);
    #: None: `ticketing.sla_policy` from the settings.
    sla_policy: Mapped[str | None] = mapped_column(String(32))


class Department(Base):
    __tablename__ = "department"
    __table_args__ = (UniqueConstraint("organisation_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    #: Short code used in the naming standard (`KJC` in `KJC-COM-0001`, `zhangsanKJC`).
    code: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))


class Employee(Base):
    """A person who may call the hotline."""

    __tablename__ = "employee"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    vip: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    #: Where the employee works: where an on-site engineer goes.
    location_id: Mapped[int | None] = mapped_column(
        ForeignKey("location.id", ondelete="SET NULL"), index=True
    )

    organisation: Mapped[Organisation] = relationship(lazy="raise")
    department: Mapped[Department | None] = relationship(lazy="raise")
    phones: Mapped[list[EmployeePhone]] = relationship(
        lazy="raise", order_by="EmployeePhone.id", cascade="all, delete-orphan"
    )


class EmployeePhone(Base):
    """A number an employee calls from; a department line appears under several employees."""

    __tablename__ = "employee_phone"
    __table_args__ = (UniqueConstraint("employee_id", "number_e164"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employee.id", ondelete="CASCADE"))
    #: As entered, for display; matching uses `number_e164`, normalised when written.
    number_raw: Mapped[str] = mapped_column(String(64))
    number_e164: Mapped[str] = mapped_column(String(16), index=True)


def _category_default(context: Any) -> str:
    """A new item's category from its type, so importers need not know categories."""
    return category_for_type(context.get_current_parameters().get("type")).value


class Device(Base):
    """A configuration item: a computer, printer or other managed asset."""

    __tablename__ = "device"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    asset_tag: Mapped[str] = mapped_column(String(32), unique=True)  # e.g. 0000COM0001
    name: Mapped[str] = mapped_column(String(64), unique=True)  # e.g. KJC-COM-0001
    type: Mapped[str] = mapped_column(String(32))  # desktop, laptop, printer, ...
    model: Mapped[str | None] = mapped_column(String(200))
    vendor: Mapped[str | None] = mapped_column(String(200))
    serial: Mapped[str | None] = mapped_column(String(100))
    purchase_date: Mapped[date | None] = mapped_column(Date)
    warranty_end: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(32), default="in_use", server_default="in_use")
    owner_employee_id: Mapped[int | None] = mapped_column(
        ForeignKey("employee.id", ondelete="SET NULL"), index=True
    )
    #: Where it stands (building, room), as the asset survey recorded it.
    location: Mapped[str | None] = mapped_column(String(200))
    #: The client's site it belongs to, when known (`location`).
    location_id: Mapped[int | None] = mapped_column(
        ForeignKey("location.id", ondelete="SET NULL"), index=True
    )
    #: The repair company that services it (`cmdb`); None: the vendor or nobody yet.
    maintainer: Mapped[str | None] = mapped_column(String(200))
    #: `cmdb.ItemCategory`; when not given, derived from `type` on insert.
    category: Mapped[str] = mapped_column(
        String(16), default=_category_default, server_default="peripheral", index=True
    )


class Agent(Base):
    """A login of the agent console: phone agents, supervisors, administrators."""

    __tablename__ = "agent"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    sip_uri: Mapped[str | None] = mapped_column(String(255))
    skills: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=_utcnow)
    #: Tokens issued at another version are void: bumped by logout, a new password,
    #: another role and disabling.
    token_version: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    #: Set while the account may not sign in; its tokens are void too.
    disabled_at: Mapped[datetime | None] = mapped_column(default=None)

    #: The queues it serves, by name; load them explicitly (`selectinload`).
    memberships: Mapped[list[AgentQueue]] = relationship(
        lazy="raise",
        order_by="AgentQueue.queue",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    @property
    def queues(self) -> list[str]:
        """The names of its queues (the memberships must be loaded)."""
        return [membership.queue for membership in self.memberships]

    @queues.setter
    def queues(self, names: Iterable[str]) -> None:
        """Serve these queues at the default level and penalty, as `Agent(queues=[...])`
        did when the names were a column."""
        self.memberships = [AgentQueue(queue=name) for name in dict.fromkeys(names)]


class AgentQueue(Base):
    """One queue an agent serves, with its level and penalty there (see
    `callcenter.acd.model.Membership`)."""

    __tablename__ = "agent_queue"
    __table_args__ = (
        CheckConstraint("level >= 1 AND level <= 10", name="level"),
        CheckConstraint("penalty >= 0", name="penalty"),
    )

    agent_id: Mapped[int] = mapped_column(
        ForeignKey("agent.id", ondelete="CASCADE"), primary_key=True
    )
    queue: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    level: Mapped[int] = mapped_column(Integer, default=5, server_default=text("5"))
    penalty: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))


class Ticket(Base):
    """An incident (or later, another kind of request) with its lifecycle."""

    __tablename__ = "ticket"
    __table_args__ = (
        Index("ix_ticket_employee_id_status_updated_at", "employee_id", "status", "updated_at"),
        # Ticket numbers are quoted to callers: never hand out a number twice.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32), default="incident", server_default="incident")
    status: Mapped[str] = mapped_column(String(16))
    priority: Mapped[int] = mapped_column(Integer)
    subject: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="", server_default=text("''"))
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employee.id"))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("device.id"), index=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    #: The workflow's fields (`workflow.TicketState`); every change is in `ticket_audit`.
    tier: Mapped[str] = mapped_column(String(32), server_default="tier1_service_desk")
    assignee: Mapped[str | None] = mapped_column(String(64))
    category: Mapped[str | None] = mapped_column(String(64), index=True)
    resolution: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None]
    reopen_count: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    escalation_level: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    approved_by: Mapped[str | None] = mapped_column(String(64))
    #: Service contacts (answered calls, visits) and on-site visits: first-contact facts.
    contacts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    onsite_visits: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    #: The agent's verdict at wrap-up: solved on the first contact, yes or no (None: unsaid).
    first_contact_resolved: Mapped[bool | None] = mapped_column(Boolean)
    #: Bumped by every change; the API's ETag, so two agents cannot overwrite each other.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))


class TicketAudit(Base):
    """One field of one ticket changed (`workflow.AuditEntry`), written with the change."""

    __tablename__ = "ticket_audit"
    __table_args__ = (Index("ix_ticket_audit_ticket_id_at", "ticket_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    field: Mapped[str] = mapped_column(String(32))
    old: Mapped[str | None] = mapped_column(Text)
    new: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text, default="", server_default=text("''"))


class TicketLink(Base):
    """`ticket_id` is a duplicate of / related to / child of / caused by `other_id`."""

    __tablename__ = "ticket_link"
    __table_args__ = (CheckConstraint("ticket_id <> other_id", name="not_itself"),)

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("ticket.id", ondelete="CASCADE"), primary_key=True
    )
    other_id: Mapped[int] = mapped_column(
        ForeignKey("ticket.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))


class SlaClockRecord(Base):
    """One SLA clock of one ticket (`sla.SlaClock`), started when the ticket is opened.

    It keeps the target, warning levels and calendar it started with, so editing a policy
    or the settings never moves the due time of an open ticket.
    """

    __tablename__ = "sla_clock"
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("ticket.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    target_seconds: Mapped[float] = mapped_column(Float)
    policy_key: Mapped[str] = mapped_column(String(64))
    #: `BusinessCalendar.from_data` form.
    calendar: Mapped[dict[str, Any]] = mapped_column(JSON)
    warn_at: Mapped[list[float]] = mapped_column(JSON)
    stopped_at: Mapped[datetime | None]
    #: The monitor has nothing left to say about this clock (stopped, and met or its breach
    #: announced); cleared again when the clock runs again (a reopened ticket).
    settled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))


# The monitor reads the clocks that are not settled.
Index("ix_sla_clock_settled", SlaClockRecord.settled)


class SlaClockSegment(Base):
    """A stretch during which a clock ran; `end` None while it still runs."""

    __tablename__ = "sla_clock_segment"
    __table_args__ = (
        ForeignKeyConstraint(
            ["ticket_id", "kind"], ["sla_clock.ticket_id", "sla_clock.kind"], ondelete="CASCADE"
        ),
        Index("ix_sla_clock_segment_ticket_id_kind", "ticket_id", "kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    start: Mapped[datetime]
    end: Mapped[datetime | None]


class SlaEventRecord(Base):
    """A warning or breach the SLA monitor announced: the unique key makes it once only,
    across restarts and processes (`sla.SlaMonitor.emitted`, persisted)."""

    __tablename__ = "sla_event"
    __table_args__ = (UniqueConstraint("ticket_id", "kind", "event", "target_seconds"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    #: "breach", or the warning level as `repr(float)` ("0.8").
    event: Mapped[str] = mapped_column(String(32))
    target_seconds: Mapped[float] = mapped_column(Float)
    #: The instant the level or the target was reached (computed on the calendar).
    at: Mapped[datetime]
    #: When the monitor announced it.
    announced_at: Mapped[datetime]


class CallRecord(Base):
    """One hotline call from arrival to hang-up, written at every step."""

    __tablename__ = "call_record"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    sip_call_id: Mapped[str | None] = mapped_column(String(255))
    #: E.164 when the number could be normalised, else as received.
    caller: Mapped[str] = mapped_column(String(255))
    #: The number as received, kept only when it differs from `caller`.
    caller_raw: Mapped[str | None] = mapped_column(String(255))
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employee.id"), index=True)
    queue: Mapped[str | None] = mapped_column(String(64))
    agent_username: Mapped[str | None] = mapped_column(String(64))
    arrived_at: Mapped[datetime]
    enqueued_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    alive_at: Mapped[datetime | None]  # the last heartbeat of the process holding the call
    outcome: Mapped[str] = mapped_column(String(16), index=True)
    pickup_latency_seconds: Mapped[float | None] = mapped_column(Float)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), index=True)
    media: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: The agent's code for the call at wrap-up (one of `acd.dispositions`).
    disposition: Mapped[str | None] = mapped_column(String(32), index=True)
    #: How the IVR ended (`ivr.events.IvrOutcome`) and what it learnt on the way.
    ivr_outcome: Mapped[str | None] = mapped_column(String(16))
    ivr_attributes: Mapped[dict[str, str] | None] = mapped_column(JSON)


# The supervisor's "recent calls" list reads newest first.
Index("ix_call_record_arrived_at", CallRecord.arrived_at.desc())


class AcdEventRecord(Base):
    """The ACD's history, event by event (the role of Asterisk's queue_log): any queue
    report can be recomputed from it."""

    __tablename__ = "acd_event"
    #: BIGINT on PostgreSQL; SQLite only auto-increments an INTEGER primary key.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True
    )
    at: Mapped[datetime] = mapped_column(index=True)
    type: Mapped[str] = mapped_column(String(40))
    call_id: Mapped[str | None] = mapped_column(String(36), index=True)
    queue: Mapped[str | None] = mapped_column(String(64))
    agent: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AcdSnapshot(Base):
    """The ACD's state (agents, callbacks, statistics) saved so a restart keeps it."""

    __tablename__ = "acd_snapshot"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    saved_at: Mapped[datetime]
    state: Mapped[dict[str, Any]] = mapped_column(JSON)


class KbArticle(Base):
    """A knowledge-base article: how to solve one kind of problem.

    Its full-text index is the database's own and lives outside these models (see
    `SEARCH_OBJECTS`): an FTS5 table kept by triggers on SQLite, a generated `tsvector`
    column with a GIN index on PostgreSQL; migration 0005 creates the one that fits.
    """

    __tablename__ = "kb_article"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(64), index=True)
    #: The device models and software names it applies to, space-joined: what the
    #: full-text index sees of `targets` (kept by the knowledge base when it writes).
    applies_text: Mapped[str] = mapped_column(Text, default="", server_default=text("''"))
    #: Tickets it solved (`kb_article_use` rows), counted once per ticket.
    use_count: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    author: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    targets: Mapped[list[KbArticleTarget]] = relationship(
        lazy="raise",
        order_by="(KbArticleTarget.kind, KbArticleTarget.name)",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class KbArticleTarget(Base):
    """A device model (`kind` "model") or software name ("software") an article applies to."""

    __tablename__ = "kb_article_target"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("kb_article.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    #: `name` in lower case: suggestions match a device's model whatever its case.
    name_key: Mapped[str] = mapped_column(String(200), index=True)


class KbArticleUse(Base):
    """The article solved the ticket: one row, and one count, per ticket."""

    __tablename__ = "kb_article_use"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("kb_article.id", ondelete="CASCADE"), primary_key=True
    )
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("ticket.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    used_at: Mapped[datetime]


#: Database objects of the full-text index that migration 0005 creates per dialect and the
#: models do not describe; schema comparisons leave them out (`in_models`).
SEARCH_OBJECTS = frozenset(
    {
        # SQLite: the FTS5 table and its shadow tables.
        "kb_article_fts",
        "kb_article_fts_data",
        "kb_article_fts_idx",
        "kb_article_fts_docsize",
        "kb_article_fts_config",
        # PostgreSQL: the generated column and its index.
        "search_vector",
        "ix_kb_article_search_vector",
    }
)


def in_models(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic's `include_name` hook: False for the per-dialect full-text objects."""
    return name not in SEARCH_OBJECTS


# -- ticket indexes (benchmarks/ticket_bench.py, migration 0010) ---------------------------

# The screen pop's suggestions and the "most used" listing: most used articles first.
Index("ix_kb_article_use_count_title_id", KbArticle.use_count.desc(), KbArticle.title, KbArticle.id)


# -- ticket REST API (migration 0007): notes --------------------------------------------


class TicketNote(Base):
    """A dated, signed note on a ticket; `internal` ones are for the desk, not the caller."""

    __tablename__ = "ticket_note"
    __table_args__ = (Index("ix_ticket_note_ticket_id_at", "ticket_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    author: Mapped[str] = mapped_column(String(64))
    # Before `text`: the column's name would hide sqlalchemy's text() below it.
    internal: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    text: Mapped[str] = mapped_column(Text)
    #: The call it was written during (the console's note request), if any.
    call_id: Mapped[str | None] = mapped_column(ForeignKey("call_record.id", ondelete="SET NULL"))


# -- CMDB: relations between configuration items, maintenance and hardware repair ----------


class CiRelation(Base):
    """Item `item_id` is installed on / connected to / depends on item `other_id`
    (`cmdb.RelationKind`; the rules are `cmdb.check_relation`)."""

    __tablename__ = "ci_relation"
    __table_args__ = (
        CheckConstraint("item_id <> other_id", name="not_itself"),
        CheckConstraint("kind IN ('installed_on', 'connected_to', 'depends_on')", name="kind"),
    )

    item_id: Mapped[int] = mapped_column(
        ForeignKey("device.id", ondelete="CASCADE"), primary_key=True
    )
    other_id: Mapped[int] = mapped_column(
        ForeignKey("device.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))


class MaintenanceRecord(Base):
    """A repair or preventive maintenance done on an item: its service history."""

    __tablename__ = "maintenance_record"
    __table_args__ = (
        CheckConstraint("kind IN ('repair', 'preventive')", name="kind"),
        Index("ix_maintenance_record_item_id_done_at", "item_id", "done_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("device.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    done_at: Mapped[datetime]
    #: Who did it: an engineer, or the repair company.
    by: Mapped[str] = mapped_column(String(200))
    notes: Mapped[str] = mapped_column(Text, default="", server_default=text("''"))
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("ticket.id", ondelete="SET NULL"), index=True
    )
    recorded_by: Mapped[str] = mapped_column(String(64))


class MaintenancePlan(Base):
    """Service items of `category` every `interval_days`, in one department (or, with
    `department_id` NULL, in every department without a plan of its own)."""

    __tablename__ = "maintenance_plan"
    __table_args__ = (
        UniqueConstraint("department_id", "category"),
        CheckConstraint("interval_days > 0", name="interval_days"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("department.id", ondelete="CASCADE")
    )
    category: Mapped[str] = mapped_column(String(16))
    interval_days: Mapped[int] = mapped_column(Integer)


class RepairTaskRecord(Base):
    """A hardware repair of one item as a task of a ticket (`repair.RepairTask`)."""

    __tablename__ = "repair_task"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("device.id", ondelete="CASCADE"), index=True)
    in_warranty: Mapped[bool] = mapped_column(Boolean)
    state: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime]
    quote_cents: Mapped[int | None] = mapped_column(BigInteger)
    approved_by: Mapped[str | None] = mapped_column(String(200))
    approved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]


# -- problems, known errors, complaints and per-organisation service (migration 0009) -------


class ProblemRecord(Base):
    """What a problem ticket is about: the configuration item, model or category its
    incidents share (`problems.Dimension` and the normalised key), and its known error.

    `open_key` ("dimension:key") is set while the problem is open and cleared once it is
    closed or cancelled: its unique index makes "one open problem per key" hold even
    with two scanners at once.
    """

    __tablename__ = "problem"

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("ticket.id", ondelete="CASCADE"), primary_key=True
    )
    dimension: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(200))
    open_key: Mapped[str | None] = mapped_column(String(240), unique=True)
    known_error: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    workaround: Mapped[str | None] = mapped_column(Text)
    known_error_at: Mapped[datetime | None]
    known_error_by: Mapped[str | None] = mapped_column(String(64))


Index("ix_problem_dimension_key", ProblemRecord.dimension, ProblemRecord.key)


class OrgService(Base):
    """An organisation's service contract beyond its SLA policy name: its own service
    calendar (None: the settings' calendar) and its account manager, who owns complaints."""

    __tablename__ = "org_service"

    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True
    )
    #: `BusinessCalendar.from_data` form; None: `ticketing.sla_timezone` / office hours.
    calendar: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: Who complaints are assigned to (the ticket's assignee), and how to reach them.
    account_manager: Mapped[str | None] = mapped_column(String(64))
    account_manager_email: Mapped[str | None] = mapped_column(String(254))
    updated_at: Mapped[datetime | None]
    updated_by: Mapped[str | None] = mapped_column(String(64))


class ComplaintRecord(Base):
    """Who a complaint ticket is from (an organisation, an employee of it) and what about."""

    __tablename__ = "complaint"

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("ticket.id", ondelete="CASCADE"), primary_key=True
    )
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    #: The ticket complained about, if any (also a `related` ticket_link).
    about_ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("ticket.id", ondelete="SET NULL")
    )
    filed_by: Mapped[str] = mapped_column(String(64))


# --- screen pop: numbers written in tickets (migration 0012) ---------------------------


class TicketPhone(Base):
    """A telephone number written in a ticket's subject or description (`source` ticket)
    or in one of its notes (`source` note): the screen pop's "maybe" match for callers no
    employee record has. Kept up to date on every write (callcenter/tickets/ticket_phone.py)."""

    __tablename__ = "ticket_phone"
    __table_args__ = (Index("ix_ticket_phone_number_e164", "number_e164"),)

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("ticket.id", ondelete="CASCADE"), primary_key=True
    )
    source: Mapped[str] = mapped_column(String(8), primary_key=True)
    number_e164: Mapped[str] = mapped_column(String(16), primary_key=True)
    #: The first spelling found (`(020) 8888-1001`), shown to the agent.
    as_written: Mapped[str] = mapped_column(String(64))


# -- locations (migration 0013) --------------------------------------------------------------


class Location(Base):
    """A client's site (building, floor, office) where employees work and items stand."""

    __tablename__ = "location"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(400))
