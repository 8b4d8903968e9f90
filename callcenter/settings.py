"""Configuration: `config/callcenter.yaml`, overridden by `CALLCENTER_*` variables.

Validated once at start-up; any unknown key or bad value becomes one `ConfigError` line
naming it (the CLI prints it and exits 2). Key-by-key reference: docs/configuration.md.
"""

from __future__ import annotations

import os
import socket
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from callcenter.acd.model import (
    DEFAULT_DISPOSITIONS,
    DEFAULT_PAUSE_REASONS,
    JoinEmpty,
    OverflowKind,
    OverflowTarget,
    QueueSettings,
    SkillStep,
    Strategy,
)
from callcenter.acd.service_level import ServiceLevelFormula
from callcenter.auth.settings import AuthSettings
from callcenter.cmdb.naming import (
    ASSET_PATTERN,
    DEFAULT_DEVICE_TYPES,
    DEVICE_PATTERN,
    USER_PATTERN,
    NamingError,
    NamingPolicy,
    NamingStandard,
    check_pattern,
)
from callcenter.config_section import Section as _Section
from callcenter.ivr.announcements import QueueAnnouncements
from callcenter.redaction import SECRET_KEYS, redact
from callcenter.softphone_bridge.settings import SipSettings as SipSettings
from callcenter.softphone_bridge.settings import Trunk as Trunk
from callcenter.tickets.priority import DEFAULT_MATRIX, PriorityError, PriorityMatrix
from callcenter.tickets.sla import SlaError, parse_duration

ENV_PREFIX = "CALLCENTER_"
#: Variables with the prefix that are not settings.
#: CALLCENTER_SECRET_* may hold secrets the file names (a trunk's `password_env`).
ENV_NOT_SETTINGS = ("CALLCENTER_CONFIG", "CALLCENTER_TEST_", "CALLCENTER_SECRET_")
DEFAULT_CONFIG_PATH = Path("config/callcenter.yaml")


class ConfigError(Exception):
    """One line naming the offending key or value."""


class HttpSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    #: Browser origins the consoles' WebSockets accept (scheme://host[:port]); a client
    #: without an Origin header (a program) is judged by its token alone.
    allowed_origins: list[str] = Field(default_factory=list)
    #: Where browsers reach this process (scheme://host[:port], no path): in a cluster a
    #: console on another node opens a call's audio here. Empty: http://host:port (this
    #: machine's name when host is a wildcard address).
    public_url: str = Field("", pattern=r"^$|^https?://[^/?#\s]+$")

    def base_url(self) -> str:
        """`public_url`, or the one derived from where this process listens."""
        if self.public_url:
            return self.public_url
        host = self.host if self.host not in ("0.0.0.0", "::", "") else socket.gethostname()
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"


class DatabaseSettings(_Section):
    url: str = Field(
        "sqlite+aiosqlite:///var/callcenter.db",
        pattern=r"^(sqlite\+aiosqlite|postgresql\+asyncpg)://",
    )
    #: Call-record writes the database refused for their content are appended here.
    spool_file: Path = Path("var/spool/call-records.jsonl")


class RedisSettings(_Section):
    url: str | None = Field(default=None, pattern=r"^$|^(rediss?|unix)://")
    key_prefix: str = Field(default="callcenter:acd", min_length=1)
    lease_seconds: float = Field(default=5.0, ge=0.5, le=300)
    snapshot_seconds: float = Field(default=30.0, ge=1, le=3600)


class SkillStepConfig(_Section):
    """After a call waited `after_seconds`, its skills are needed at most at `min_level`
    (null: anyone of the queue may take it)."""

    after_seconds: float = Field(ge=0)
    min_level: int | None = Field(ge=1, le=10)


class OverflowTargetConfig(_Section):
    kind: OverflowKind
    #: queue: the queue to move to; callback: the queue the callback waits in (default:
    #: the same); ticket_only: unused.
    name: str | None = None

    @model_validator(mode="after")
    def _queue_has_a_name(self) -> OverflowTargetConfig:
        if self.kind is OverflowKind.QUEUE and not self.name:
            raise ValueError("an overflow to a queue needs the queue's name")
        return self


class QueueConfig(_Section):
    name: str = Field(min_length=1, pattern=r"^[a-z][a-z0-9_-]*$")
    strategy: Strategy = Strategy.LONGEST_IDLE
    service_level_seconds: float = Field(20.0, gt=0)
    service_level_target: float = Field(0.9, gt=0, le=1)
    short_abandon_seconds: float = Field(5.0, ge=0)
    ring_timeout_seconds: float = Field(15.0, gt=0)
    wrap_up_seconds: float = Field(0.0, ge=0)
    service_level_formula: ServiceLevelFormula = (
        ServiceLevelFormula.ANSWERED_OVER_ANSWERED_ABANDONED_LONG
    )
    skill_relaxation: list[SkillStepConfig] = Field(default_factory=list)
    resume_window_seconds: float = Field(0.0, ge=0)
    max_waiting: int | None = Field(None, ge=1)
    max_wait_seconds: float | None = Field(None, gt=0)
    overflow_target: OverflowTargetConfig | None = None
    join_empty: JoinEmpty = JoinEmpty.ALLOW
    callback_retries: int = Field(2, ge=0)
    callback_retry_seconds: float = Field(300.0, ge=0)
    default_aht_seconds: float = Field(300.0, gt=0)
    #: The key a caller waiting in this queue presses to be called back instead of
    #: holding (queued callback); null: no such key. Handled by the call flow, not the ACD.
    callback_key: Literal["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "#"] | None = None
    #: Seconds of music between announcements to a waiting caller; null or 0: none.
    announce_interval_seconds: float | None = Field(None, ge=0)
    #: What each announcement says: the place in line, the estimated hold time, and
    #: (when the queue has a callback_key) the key to press for a callback.
    announce_position: bool = True
    announce_wait: bool = True
    announce_callback_offer: bool = True

    @model_validator(mode="after")
    def _something_to_announce(self) -> QueueConfig:
        if self.announce_interval_seconds and not (
            self.announce_position
            or self.announce_wait
            or (self.announce_callback_offer and self.callback_key is not None)
        ):
            raise ValueError(
                "announce_interval_seconds is set but announce_position, announce_wait and"
                " the callback offer are all off"
            )
        return self

    @property
    def announcements(self) -> QueueAnnouncements:
        """What the call flow tells this queue's waiting callers (ivr/announcements.py)."""
        offer = self.callback_key if self.announce_callback_offer else None
        return QueueAnnouncements(
            self.announce_interval_seconds or None,
            self.announce_position,
            self.announce_wait,
            offer,
        )

    @property
    def dials_callbacks(self) -> bool:
        """Whether calls of this queue can become callbacks (the key, or an overflow)."""
        target = self.overflow_target
        return self.callback_key is not None or (
            target is not None and target.kind is OverflowKind.CALLBACK
        )

    def to_domain(self) -> QueueSettings:
        # Converted below, or the call flow's (callback key, announcements), not the ACD's.
        scalars = self.model_dump(
            exclude={"skill_relaxation", "overflow_target", "callback_key"}
            | {name for name in type(self).model_fields if name.startswith("announce_")}
        )
        target = self.overflow_target
        return QueueSettings(
            **scalars,
            skill_relaxation=tuple(
                SkillStep(step.after_seconds, step.min_level) for step in self.skill_relaxation
            ),
            overflow_target=OverflowTarget(target.kind, target.name) if target else None,
        )


class AcdSettings(_Section):
    queues: list[QueueConfig] = Field(default_factory=lambda: [QueueConfig(name="helpdesk")])
    default_queue: str = "helpdesk"
    #: Reasons an agent may give for a pause; "no answer", "busy", "rejected" and
    #: "unreachable" (the ACD's own, after a failed offer) are accepted in any case.
    pause_reasons: list[str] = Field(default_factory=lambda: list(DEFAULT_PAUSE_REASONS))
    #: Codes an agent gives a call at wrap-up; the call record keeps the one chosen.
    dispositions: list[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")]] = Field(
        default_factory=lambda: list(DEFAULT_DISPOSITIONS), min_length=1
    )
    #: Offset of local time from UTC: "today" of the fewest_calls and least_talk_time
    #: counters starts at local midnight.
    utc_offset_hours: float = Field(0.0, ge=-12, le=14)
    #: Seed of the random strategy's generator; null: seeded from the system.
    random_seed: int | None = None

    @model_validator(mode="after")
    def _known_default(self) -> AcdSettings:
        names = [q.name for q in self.queues]
        if len(set(names)) != len(names):
            raise ValueError("queue names must be unique")
        if len(set(self.dispositions)) != len(self.dispositions):
            raise ValueError("dispositions must be unique")
        if self.default_queue not in names:
            raise ValueError(f"default_queue {self.default_queue!r} is not a configured queue")
        for queue in self.queues:
            target = queue.overflow_target
            if target is None or target.name is None:
                continue
            if target.name not in names:
                raise ValueError(
                    f"queue {queue.name!r} overflows to {target.name!r}, not a configured queue"
                )
            if target.kind is OverflowKind.QUEUE and target.name == queue.name:
                raise ValueError(f"queue {queue.name!r} overflows into itself")
        return self


Code = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9]{0,15}$")]


class NamingSettings(_Section):
    """The client's naming standard (callcenter/cmdb/naming.py): regexes with named groups,
    device type codes, and optionally the known departments. Defaults: MISSION.md's."""

    asset_pattern: str = ASSET_PATTERN
    device_pattern: str = DEVICE_PATTERN
    user_pattern: str = USER_PATTERN
    #: Device type code -> what it stands for.
    device_types: dict[Code, str] = Field(
        default_factory=lambda: dict(DEFAULT_DEVICE_TYPES), min_length=1
    )
    #: Known department codes; null: any code the patterns accept.
    departments: list[Code] | None = None
    #: A name that breaks the standard is refused, or accepted with a warning.
    enforce: Literal["reject", "warn"] = "reject"

    @field_validator("asset_pattern", "device_pattern", "user_pattern")
    @classmethod
    def _valid_pattern(cls, value: str, info: ValidationInfo) -> str:
        assert info.field_name is not None
        try:
            check_pattern(info.field_name.removesuffix("_pattern"), value)
        except NamingError as exc:
            raise ValueError(str(exc)) from None
        return value

    def standard(self) -> NamingStandard:
        return NamingStandard(
            device_types=frozenset(self.device_types),
            departments=None if self.departments is None else frozenset(self.departments),
            asset_pattern=self.asset_pattern,
            device_pattern=self.device_pattern,
            user_pattern=self.user_pattern,
        )

    def policy(self) -> NamingPolicy:
        return NamingPolicy(self.standard(), warn=self.enforce == "warn")


class TicketingSettings(_Section):
    attach_window_hours: float = Field(8.0, ge=0)
    default_region: str = Field("CN", pattern=r"^[A-Z]{2}$")
    #: SLA policy of organisations that name none: a built-in one of `callcenter/tickets/sla.py`.
    sla_policy: Literal["standard", "premium"] = "standard"
    #: A clock warns once this fraction of its target has elapsed (0.8: at 80 %).
    sla_warn_fraction: float = Field(0.8, gt=0, lt=1)
    #: Service hours the clocks count in: this zone, and office hours unless always open.
    sla_timezone: str = "Asia/Shanghai"
    sla_always_open: bool = False
    #: How often the SLA monitor looks at the clocks of open tickets.
    sla_scan_seconds: float = Field(30.0, ge=1)
    #: Problem management: this many incidents within the window sharing a configuration
    #: item, model or category open a problem; the scan runs this often.
    problem_threshold: int = Field(3, ge=2, le=1000)
    problem_window_days: float = Field(30.0, gt=0, le=366)
    problem_scan_seconds: float = Field(300.0, ge=1)
    #: Complaints: business time (on the organisation's calendar) the account manager
    #: has to acknowledge and to resolve one before it escalates ("30m", "4h", seconds).
    complaint_acknowledge_within: str | float = "4h"
    complaint_resolve_within: str | float = "16h"
    complaint_scan_seconds: float = Field(60.0, ge=1)
    #: A resolved ticket nobody reopened is closed by the system after this many
    #: (calendar) days; 0: never, tickets stay resolved until someone closes them.
    auto_close_days: float = Field(5.0, ge=0, le=366)
    #: Priority of each impact x urgency pair: rows impact high..low, columns urgency
    #: high..low, whole numbers 1..5 that never rise as impact or urgency falls.
    priority_matrix: list[list[int]] = Field(default_factory=lambda: DEFAULT_MATRIX.to_data())

    @field_validator("priority_matrix")
    @classmethod
    def _valid_matrix(cls, value: list[list[int]]) -> list[list[int]]:
        try:
            PriorityMatrix.from_data(value)
        except PriorityError as exc:
            raise ValueError(str(exc).removeprefix("priority matrix: ")) from None
        return value

    #: The naming standard names are checked against where they enter (import, CMDB).
    naming: NamingSettings = NamingSettings()

    @model_validator(mode="after")
    def _known_zone(self) -> TicketingSettings:
        try:
            ZoneInfo(self.sla_timezone)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ValueError(f"unknown time zone {self.sla_timezone!r}") from None
        return self

    @model_validator(mode="after")
    def _complaint_limits(self) -> TicketingSettings:
        acknowledge, resolve = self.complaint_limits_seconds
        if resolve < acknowledge:
            raise ValueError("complaint_resolve_within: shorter than complaint_acknowledge_within")
        return self

    @property
    def complaint_limits_seconds(self) -> tuple[float, float]:
        """(acknowledge, resolve) in business seconds; ValueError naming a bad one."""
        found: list[float] = []
        for name in ("complaint_acknowledge_within", "complaint_resolve_within"):
            try:
                found.append(parse_duration(getattr(self, name), name))
            except SlaError as exc:
                raise ValueError(str(exc)) from None
        return found[0], found[1]


class PromptSettings(_Section):
    directory: Path = Path("var/prompts")
    #: Built from this catalogue by `callcenter prompts build`.
    catalogue: Path = Path("config/prompts.yaml")
    music_on_hold: Path = Path("/usr/share/asterisk/moh/macroform-cold_day.wav")


class IvrSettings(_Section):
    #: The IVR flows (docs/ivr.md); checked at start-up, `callcenter ivr check` checks it too.
    file: Path = Path("config/ivr.yaml")


class LoggingSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class Settings(_Section):
    sip: SipSettings = SipSettings()
    http: HttpSettings = HttpSettings()
    database: DatabaseSettings = DatabaseSettings()
    redis: RedisSettings = RedisSettings()
    acd: AcdSettings = AcdSettings()
    ticketing: TicketingSettings = TicketingSettings()
    prompts: PromptSettings = PromptSettings()
    ivr: IvrSettings = IvrSettings()
    auth: AuthSettings = AuthSettings()
    logging: LoggingSettings = LoggingSettings()

    @model_validator(mode="after")
    def _callbacks_can_be_dialled(self) -> Settings:
        if self.sip.outbound_uri_template is not None:
            return self
        for n, queue in enumerate(self.acd.queues):
            if queue.dials_callbacks:
                what = "callback_key" if queue.callback_key is not None else "overflow_target"
                raise ValueError(
                    f"acd.queues.{n}.{what}: callbacks need sip.outbound_uri_template"
                    " (where to dial them)"
                )
        return self


def env_names(
    model: type[BaseModel] = Settings, prefix: tuple[str, ...] = ()
) -> dict[str, tuple[str, ...]]:
    """Every scalar setting's variable name, e.g. CALLCENTER_SIP_PORT -> ("sip", "port")."""
    names: dict[str, tuple[str, ...]] = {}
    for field_name, info in model.model_fields.items():
        path = (*prefix, field_name)
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names.update(env_names(annotation, path))
        elif not _is_collection(annotation):
            names[ENV_PREFIX + "_".join(path).upper()] = path
    return names


def _is_collection(annotation: Any) -> bool:
    """Lists and mappings (also optional ones) are set in the file only."""
    if getattr(annotation, "__origin__", None) in (list, dict):
        return True
    members = typing.get_args(annotation) if _is_union(annotation) else ()
    return any(_is_collection(member) for member in members)


def _is_union(annotation: Any) -> bool:
    return typing.get_origin(annotation) in (typing.Union, types.UnionType)


def load_settings(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    environ = os.environ if environ is None else environ
    explicit = path is not None
    if path is None:
        path = Path(environ.get("CALLCENTER_CONFIG", DEFAULT_CONFIG_PATH))
    data: dict[str, Any] = {}
    if path.exists():
        try:
            loaded = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" line {mark.line + 1}" if mark is not None else ""
            raise ConfigError(f"{path}{where}: not valid YAML") from None
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: the top level must be a mapping of sections")
        data = loaded
    elif explicit or "CALLCENTER_CONFIG" in environ:
        raise ConfigError(f"{path}: no such settings file")
    known = env_names()
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name.startswith(ENV_NOT_SETTINGS):
            continue
        if name not in known:
            raise ConfigError(f"{name}: unknown setting variable")
        _set_path(data, known[name], name, value)
    try:
        return Settings.model_validate(data, context={"environ": environ})
    except ValidationError as exc:
        raise ConfigError(_one_line(exc, path)) from None


def _set_path(data: dict[str, Any], path: tuple[str, ...], name: str, raw: str) -> None:
    """Put a variable's text where the file would have it; pydantic coerces "5060" to int."""
    node = data
    for key in path[:-1]:
        child = node.setdefault(key, {})
        if not isinstance(child, dict):
            raise ConfigError(f"{name}: section {key!r} in the file is not a mapping")
        node = child
    node[path[-1]] = raw


def _one_line(exc: ValidationError, path: Path) -> str:
    error = exc.errors()[0]
    # Union members show up in the location as "lax-or-strict[...]" and the like.
    parts = [str(part) for part in error["loc"] if "[" not in str(part)]
    key = ".".join(parts) or "(top level)"
    if error["type"] == "extra_forbidden":
        return f"{key}: unknown key (in {path} or the environment)"
    value = error.get("input")
    secret = any(word in part for part in parts for word in SECRET_KEYS)
    shown = "" if secret or isinstance(value, (dict, list)) else f" (got {redact(repr(value))})"
    # Our validators' ValueErrors come prefixed; the message itself is what to read.
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{key}: {message}{shown}"
