"""What the API needs from the rest of the system, and the typed keys it is kept under."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiohttp import web
from prometheus_client import CollectorRegistry

from callcenter.acd.acd import Acd
from callcenter.acd.commands import Command
from callcenter.acd_store import AcdStore
from callcenter.acd_store.store import submit_change
from callcenter.api.errors import ApiError
from callcenter.auth.gate import TokenGate
from callcenter.auth.throttle import DEFAULT_LOGIN_POLICY, ThrottlePolicy
from callcenter.auth.tokens import Principal, TokenSigner
from callcenter.clock import Clock, SystemClock
from callcenter.health import Health
from callcenter.knowledge.store import SqlKnowledgeBase
from callcenter.tickets.priority import DEFAULT_MATRIX, PriorityMatrix
from callcenter.tickets.records import TicketStore
from callcenter.tickets.store import SqlTicketStore
from callcenter.tickets.ticket_query import MAX_ID as MAX_ID  # the largest id a column holds


@dataclass(frozen=True)
class ApiDeps:
    acd_store: AcdStore
    store: TicketStore
    tokens: TokenSigner
    registry: CollectorRegistry
    clock: Clock
    #: True once the process serves calls; /healthz answers 503 until then.
    ready: Callable[[], bool]
    #: The knowledge base; None: its routes answer 503.
    kb: SqlKnowledgeBase | None = None
    #: Impact x urgency -> priority for tickets created or re-rated over the API.
    priority_matrix: PriorityMatrix = DEFAULT_MATRIX
    #: When wrong passwords lock a username or a source address out (`auth.login_*`).
    login_policy: ThrottlePolicy = DEFAULT_LOGIN_POLICY
    #: The dependencies' verdicts (`callcenter.probes`); none watched: all taken as up.
    health: Health = field(default_factory=lambda: Health(SystemClock()))

    async def change_acd(self, command: Command) -> None:
        """Submit a change and wait for it, refused at once while Redis fails."""
        await submit_change(self.acd_store, command, self.health)

    @property
    def gate(self) -> TokenGate:
        """Checks a token against its account too (revoked, disabled, demoted)."""
        return TokenGate(self.tokens, self.store.agent_account)

    @property
    def acd(self) -> Acd:
        """This process's copy of the ACD, for reads; changes go through `acd_store`."""
        return self.acd_store.acd


DEPS = web.AppKey("deps", ApiDeps)
#: A password hash no account has: unknown users cost the same time as wrong passwords.
DUMMY_PASSWORD_HASH = web.AppKey("dummy_password_hash", str)
#: Who made the request; set by the bearer middleware before any protected handler runs.
PRINCIPAL = web.RequestKey("principal", Principal)


def now_of(request: web.Request) -> datetime:
    """The API clock's now, as an aware UTC datetime (what the ticket store takes)."""
    return datetime.fromtimestamp(request.app[DEPS].clock.now(), UTC)


def sql_store(request: web.Request, code: str = "store_unavailable") -> SqlTicketStore:
    """The SQL ticket store behind the API: the ticket, CMDB and service-desk resources
    need its tables; without it (a store of another kind) they answer 503 `code`."""
    store = request.app[DEPS].store
    if not isinstance(store, SqlTicketStore):
        raise ApiError(503, code, "the ticket database is not available")
    return store
