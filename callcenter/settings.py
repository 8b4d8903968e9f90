"""Configuration: `config/callcenter.yaml`, overridden by `CALLCENTER_*` variables.

Validated once at start-up; any unknown key or bad value becomes one `ConfigError` line
naming it (the CLI prints it and exits 2). Key-by-key reference: docs/configuration.md.
"""

from __future__ import annotations

import ipaddress
import os
import re
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
    ConfigDict,
    Field,
    SecretStr,
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
from callcenter.ivr.announcements import QueueAnnouncements
from callcenter.redaction import SECRET_KEYS, redact
from callcenter.softphone_bridge.digest import TrunkCredentials, ha1
from callcenter.tickets.priority import DEFAULT_MATRIX, PriorityError, PriorityMatrix
from callcenter.tickets.sla import SlaError, parse_duration

ENV_PREFIX = "CALLCENTER_"
#: Variables with the prefix that are not settings.
#: CALLCENTER_SECRET_* may hold secrets the file names (a trunk's `password_env`).
ENV_NOT_SETTINGS = ("CALLCENTER_CONFIG", "CALLCENTER_TEST_", "CALLCENTER_SECRET_")
DEFAULT_CONFIG_PATH = Path("config/callcenter.yaml")


class ConfigError(Exception):
    """One line naming the offending key or value."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Trunk(_Section):
    name: str = Field(min_length=1)
    #: Source networks (CIDR) whose SIP requests are served; everything else gets 403.
    networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = Field(min_length=1)
    #: Digest authentication (RFC 3261 §22): INVITEs from this trunk must prove `username`
    #: and one secret: `password`, `ha1` (MD5 of "username:realm:password") or
    #: `password_env` (the name of an environment variable holding the password).
    username: str | None = Field(None, min_length=1)
    password: SecretStr | None = None
    ha1: SecretStr | None = None
    password_env: str | None = Field(None, min_length=1)
    #: The realm of the challenge; null: sip.auth_realm.
    realm: str | None = Field(None, min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _password_from_the_environment(cls, data: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, dict) or data.get("password_env") is None:
            return data
        if data.get("password") is not None:
            raise ValueError("give password or password_env, not both")
        environ = (info.context or {}).get("environ", os.environ)
        name = str(data["password_env"])
        if name not in environ:
            raise ValueError(f"password_env: environment variable {name} is not set")
        return {**data, "password": environ[name]}

    @model_validator(mode="after")
    def _credentials_complete(self) -> Trunk:
        secrets_given = (self.password is not None) + (self.ha1 is not None)
        if self.username is None and (secrets_given or self.realm is not None):
            raise ValueError(f"trunk {self.name!r}: a password, ha1 or realm needs a username")
        if self.username is not None and secrets_given != 1:
            raise ValueError(
                f"trunk {self.name!r}: a username needs exactly one of password, ha1, password_env"
            )
        if self.ha1 is not None and not re.fullmatch(r"[0-9a-f]{32}", self.ha1.get_secret_value()):
            raise ValueError(f"trunk {self.name!r}: ha1 must be 32 lower-case hex digits")
        return self

    def credentials(self, default_realm: str) -> TrunkCredentials | None:
        """What the trunk's INVITEs must prove; None: the source address is enough."""
        if self.username is None:
            return None
        realm = self.realm or default_realm
        if self.ha1 is not None:
            return TrunkCredentials(self.username, realm, self.ha1.get_secret_value())
        assert self.password is not None
        secret = self.password.get_secret_value()
        return TrunkCredentials(self.username, realm, ha1(self.username, realm, secret))


#: Debian's bundle of the CAs browsers trust (package ca-certificates).
SYSTEM_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


class SipSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(5060, ge=1, le=65535)
    transports: list[Literal["udp", "tcp", "tls"]] = Field(default=["udp", "tcp"], min_length=1)
    #: SIP over TLS (transport "tls"): its port, our certificate chain and key (PEM); the
    #: CAs peers' certificates must be signed by (null: the system's bundle), whether the
    #: peers we connect to are verified (yes unless said otherwise), and whether peers
    #: connecting to us must present a certificate.
    tls_port: int = Field(5061, ge=1, le=65535)
    tls_certificate: Path | None = None
    tls_private_key: Path | None = None
    tls_ca_file: Path | None = None
    tls_verify_server: bool = True
    tls_verify_client: bool = False
    hotline_user: str = Field("hotline", min_length=1)
    max_calls: int = Field(100, ge=1, le=500)
    rtp_port: int = Field(40000, ge=1024, le=65535)
    rtp_port_range: int = Field(10000, ge=2)
    clock_rate: int = 8000
    user_agent: str = "callcenter"
    log_level: int = Field(1, ge=0, le=5)  # the build compiles levels up to 5
    trunks: list[Trunk] = Field(
        default_factory=lambda: [
            Trunk(name="loopback", networks=[ipaddress.ip_network("127.0.0.0/8")])
        ],
        min_length=1,
    )
    retry_after_seconds: int = Field(30, ge=1)
    #: Callers hear the IVR's greeting as early media (183 with SDP) and are answered
    #: (200) when the IVR first needs a key from them or queues the call.
    early_media: bool = False
    #: Realm of digest challenges to trunks with credentials that name none.
    auth_realm: str = Field("callcenter", min_length=1)
    #: How long a digest nonce is good for; an answer to an older one gets 401 stale=true.
    auth_nonce_seconds: int = Field(300, ge=10)
    #: INVITEs one source address may send: sustained per second, and in a burst.
    invite_rate_per_source: float = Field(50.0, gt=0)
    invite_burst_per_source: int = Field(100, ge=1)
    #: A call leg from which no RTP arrives this long is hung up (BYE); 0: never.
    #: Legs on hold are not timed out (session timers catch a peer that vanished then).
    rtp_timeout_seconds: int = Field(30, ge=0)
    #: RFC 4028 session timers: the interval we ask for and the shortest we accept
    #: (shorter requests get 422 with Min-SE).
    session_expires_seconds: int = Field(1800, ge=90)
    session_min_se_seconds: int = Field(90, ge=90)
    #: Where queued callbacks are dialled: a SIP URI with `{number}` (the number to call
    #: back), e.g. "sip:{number}@pbx.example.com:5060"; null: no callbacks.
    outbound_uri_template: str | None = None
    #: How long a callback's callee may ring before the try counts as not answered.
    outbound_ring_timeout_seconds: float = Field(30.0, gt=0)
    #: How a caller is transferred to an outside number: REFER on the caller's leg (the
    #: PBX or the caller's phone places the new call), or a new outbound leg bridged in.
    transfer_mode: Literal["refer", "bridge"] = "refer"
    #: Where transfers to an outside number go, with `{number}`; null: the outbound one.
    transfer_uri_template: str | None = None
    #: How long a transfer may take (the REFER's outcome, the bridged leg's ringing)
    #: before it counts as failed and the caller goes back to the agent.
    transfer_timeout_seconds: float = Field(30.0, gt=0)

    @model_validator(mode="after")
    def _consistent(self) -> SipSettings:
        if self.clock_rate not in (8000, 16000):
            raise ValueError(f"clock_rate must be 8000 or 16000 (got {self.clock_rate})")
        if self.rtp_port + self.rtp_port_range > 65536:
            raise ValueError("rtp_port + rtp_port_range must not pass 65535")
        if self.session_expires_seconds < self.session_min_se_seconds:
            raise ValueError("session_expires_seconds must not be below session_min_se_seconds")
        self._check_tls()
        for key in ("outbound_uri_template", "transfer_uri_template"):
            _check_template(key, getattr(self, key))
        return self

    @property
    def transfer_template(self) -> str | None:
        """Where a transfer to an outside number goes (`{number}`), if anywhere."""
        return self.transfer_uri_template or self.outbound_uri_template

    def _check_tls(self) -> None:
        if "tls" not in self.transports:
            return
        if self.tls_certificate is None or self.tls_private_key is None:
            raise ValueError("transport tls needs tls_certificate and tls_private_key")
        for key in ("tls_certificate", "tls_private_key", "tls_ca_file"):
            path = getattr(self, key)
            if path is not None and not path.is_file():
                raise ValueError(f"{key}: no such file {str(path)!r}")
        if self.tls_verify_client and self.tls_ca_file is None:
            raise ValueError("tls_verify_client needs tls_ca_file")
        if self.tls_verify_server and self.tls_ca_file is None and not SYSTEM_CA_BUNDLE.is_file():
            raise ValueError(
                f"tls_ca_file: null and no system CA bundle at {SYSTEM_CA_BUNDLE}"
                " (Debian package ca-certificates); set it, or tls_verify_server: false"
            )

    @property
    def tls_trusted(self) -> Path:
        """The CAs that the certificates of TLS peers must be signed by."""
        return self.tls_ca_file or SYSTEM_CA_BUNDLE
        if "tcp" in self.transports and self.tls_port == self.port:
            raise ValueError("tls_port must differ from port (TCP listens there)")

    def allows(self, address: str) -> bool:
        return self.trunk_for(address) is not None

    def trunk_for(self, address: str) -> Trunk | None:
        """The first trunk whose networks hold the address; None: a stranger."""
        ip = ipaddress.ip_address(address)
        return next((t for t in self.trunks if any(ip in net for net in t.networks)), None)


def _check_template(key: str, template: str | None) -> None:
    if template is None:
        return
    try:
        uri = template.format(number="+10")
    except (KeyError, IndexError, ValueError):
        raise ValueError(f"{key} may only use the placeholder {{number}}") from None
    if "{number}" not in template or not uri.startswith(("sip:", "sips:")):
        raise ValueError(
            f"{key} must be a sip: URI with {{number}}, e.g. sip:{{number}}@pbx.example.com"
        )


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
