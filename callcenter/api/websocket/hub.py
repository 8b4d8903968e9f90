"""The hub: ACD events in, console messages out, and what survives a reconnect.

One per process. It subscribes to the EventBus (`bus.subscribe(AcdEvent, hub.on_event)`),
keeps one `AgentSession` per agent (its console, its live call, its wrap-up) so that a
console that reconnects gets both back, and fans changes out to the open connections:
agent pushes at once, supervisor updates coalesced by a ticker to at most one per queue
and per agent each interval. Nothing here blocks: the bus calls `on_event`
synchronously, and every push goes to a bounded per-connection queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from aiohttp import web
from prometheus_client import CollectorRegistry, Gauge

from callcenter.acd import events as ev
from callcenter.acd.acd import Acd
from callcenter.acd.commands import Command, SetAgentState
from callcenter.acd.core import SYSTEM_PAUSE_REASONS
from callcenter.acd.errors import AcdError, UnknownAgent
from callcenter.acd.model import DEFAULT_DISPOSITIONS, AgentState
from callcenter.acd_store import AcdStore
from callcenter.acd_store.store import fire, submit_change
from callcenter.api.websocket import alerts, screen_pop, views
from callcenter.api.websocket.control import CallControl
from callcenter.api.websocket.protocol import PROTOCOL_VERSION, Close, Role
from callcenter.auth.gate import TokenGate
from callcenter.auth.tokens import Principal, TokenSigner
from callcenter.calls.events import CallHoldChanged, MonitoringChanged, TransferChanged
from callcenter.clock import Clock
from callcenter.directory.caller_identity import identify_caller
from callcenter.health import Health
from callcenter.knowledge.store import SqlKnowledgeBase
from callcenter.tasks import TaskOwner
from callcenter.tickets.records import Ticket, TicketStore
from callcenter.tickets.sla_alerts import OpenAlert, open_alerts
from callcenter.tickets.store import SqlTicketStore

log = logging.getLogger(__name__)

#: How long a stopping hub lets its screen-pop lookups finish before cancelling them.
LOOKUP_DRAIN_SECONDS = 2.0
#: Ticket lookups for alerts running at once; the rest wait for a slot.
ALERT_LOOKUP_SLOTS = 4
#: Alerts waiting for their ticket beyond this go out at once without its fields.
ALERT_LOOKUP_BACKLOG = 200
#: Said when a console stayed away past the grace period while available.
CONSOLE_CLOSED_REASON = "console closed"
#: Used instead when the configured pause reasons do not include the one above.
FALLBACK_PAUSE_REASON = "unreachable"
assert FALLBACK_PAUSE_REASON in SYSTEM_PAUSE_REASONS


@dataclass(frozen=True)
class WebSocketConfig:
    #: Origins a browser may connect from (`scheme://host[:port]`); a request without an
    #: Origin header (not a browser) is judged by its token alone.
    allowed_origins: frozenset[str] = frozenset()
    auth_timeout_seconds: float = 5.0
    ping_interval_seconds: float = 20.0
    #: Largest text frame accepted; bigger ones close the connection with 1009.
    max_message_bytes: int = 16 * 1024
    reconnect_grace_seconds: float = 60.0
    #: The supervisor ticker: coalesced updates and the grace check run this often.
    update_interval_seconds: float = 1.0
    #: How long an offer waits for the screen pop before it goes without it.
    screen_pop_timeout_seconds: float = 0.2
    #: After this the lookup is given up (the console gets an `error` push).
    screen_pop_deadline_seconds: float = 5.0
    #: Messages waiting for a slow client; an agent's overflow closes (4429), a
    #: supervisor's is replaced by one fresh snapshot.
    send_queue_size: int = 256
    #: How long a supervisor's snapshot waits for the open ticket alerts read from the
    #: store; after it, the snapshot goes with `ticket_alerts: null`.
    alerts_timeout_seconds: float = 1.0
    #: How long a ticket lookup for an alert (and the open alerts' read) may take.
    alerts_deadline_seconds: float = 5.0
    #: How long a request to the ACD or the call flow may take before `timeout`.
    request_timeout_seconds: float = 10.0
    #: How long a close waits for the client's close frame (also at shutdown, when
    #: aiohttp stops reading and the wait always runs out).
    close_timeout_seconds: float = 1.0
    #: How often the token's expiry is checked.
    auth_check_interval_seconds: float = 1.0
    pause_reason: str = CONSOLE_CLOSED_REASON
    #: The wrap-up form's disposition codes (`acd.dispositions`).
    dispositions: tuple[str, ...] = DEFAULT_DISPOSITIONS
    #: `ticketing.attach_window_hours`: an identified caller's call joins their open
    #: incident updated this recently, as the call flow's own attaching does.
    attach_window_hours: float = 8.0


class Connection(Protocol):
    """One authenticated console, as the hub sees it (a `Session` in practice)."""

    @property
    def role(self) -> Role: ...

    @property
    def principal(self) -> Principal: ...

    def push(self, item: Outgoing) -> bool:
        """Queue a message; False when the queue is full (nothing was queued)."""
        ...

    def reset(self, message: Outgoing) -> None:
        """Drop everything queued and queue `message` instead."""
        ...

    def close(self, code: Close, reason: str) -> None:
        """Ask the session to close (it does so from its own task)."""
        ...


@dataclass
class LiveCall:
    """The call an agent is offered or talks on, as its console last saw it."""

    call_id: str
    queue: str
    offer: dict[str, Any]  # the offer message without its screen pop
    lookup: asyncio.Task[dict[str, Any]] | None = None
    screen_pop: dict[str, Any] | None = None
    #: "pending" until the lookup ends, then "done", "failed" or "none" (no lookup).
    pop_status: str = "pending"
    connected: dict[str, Any] | None = None
    held: dict[str, Any] | None = None  # the last `call_held` while the call is on hold
    #: Connections that got the offer before the screen pop: they get `screen_pop` later.
    awaiting_pop: list[Connection] = field(default_factory=list)

    def offer_message(self) -> dict[str, Any]:
        return {
            **self.offer,
            "screen_pop": self.screen_pop,
            "screen_pop_pending": self.pop_status == "pending",
        }


class PendingOffer:
    """An offer in a console's send queue: the send loop waits up to the timeout for the
    screen pop, so everything pushed after the offer still arrives after it."""

    def __init__(self, live: LiveCall, connection: Connection, timeout: float) -> None:
        self.live = live
        self._connection = connection
        self._timeout = timeout

    async def message(self) -> dict[str, Any]:
        lookup = self.live.lookup
        if lookup is not None and not lookup.done():
            await asyncio.wait({lookup}, timeout=self._timeout)
        if self.live.pop_status == "pending":
            self.live.awaiting_pop.append(self._connection)
        return self.live.offer_message()


class PendingSnapshot:
    """A supervisor's snapshot in its send queue: it waits (bounded) for the open ticket
    alerts read from the store, then is built as it goes out."""

    def __init__(self, hub: Hub, read: asyncio.Task[dict[str, Any]]) -> None:
        self._hub = hub
        self._read = read

    async def message(self) -> dict[str, Any]:
        if not self._read.done():
            await asyncio.wait({self._read}, timeout=self._hub.config.alerts_timeout_seconds)
        hub = self._hub
        snapshot = views.snapshot_message(hub.acd, hub.clock.now(), hub.consoles)
        snapshot["ticket_alerts"] = _alerts_of(self._read)
        return snapshot


def _alerts_of(read: asyncio.Task[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """The read's alerts; None when it has not ended (or failed)."""
    if not read.done() or read.cancelled():
        return None
    items = read.result().get("alerts")
    return items if isinstance(items, list) else None


Outgoing = dict[str, Any] | PendingOffer | PendingSnapshot


@dataclass
class AgentSession:
    """What the hub keeps of one agent between its consoles."""

    agent_id: str
    connection: Connection | None = None
    #: When the last console closed; None while one is open or after the grace period.
    disconnected_at: float | None = None
    call: LiveCall | None = None
    #: The last call that ended: its wrap-up form and notes may still come.
    ended_call_id: str | None = None
    #: The wrap_up message while the agent is in wrap-up (re-sent on reconnect).
    wrap_up: dict[str, Any] | None = None


class Hub:
    def __init__(
        self,
        *,
        acd_store: AcdStore,
        store: TicketStore,
        tokens: TokenSigner,
        clock: Clock,
        registry: CollectorRegistry,
        config: WebSocketConfig | None = None,
        call_control: CallControl | None = None,
        kb: SqlKnowledgeBase | None = None,
        audio_url: Callable[[str, str], str | None] | None = None,
        health: Health | None = None,
    ) -> None:
        self.acd_store = acd_store
        self.acd: Acd = acd_store.acd
        self.store = store
        self.gate = TokenGate(tokens, store.agent_account)
        self.clock = clock
        self.config = config or WebSocketConfig()
        self.call_control = call_control
        #: Suggests articles in the screen pop; None: the pop has none.
        self.kb = kb
        #: (agent, call) -> the WebSocket URL of the call's audio for an agent whose phone
        #: is the console: on the process holding the call's legs, maybe not this one.
        #: None (or no function): the offer and `call_connected` carry no `audio_url`.
        self.audio_url = audio_url
        #: The dependencies' verdicts: a change is refused at once while Redis fails.
        self.health = health
        self._sessions: dict[str, AgentSession] = {}
        self._supervisors: set[Connection] = set()
        self._counted: set[Connection] = set()
        self._dirty_queues: set[str] = set()
        self._dirty_agents: set[str] = set()
        #: The queue of each agent's last offered call: the wrap-up time comes from it.
        self._last_queue: dict[str, str] = {}
        self._tasks = TaskOwner("console hub")
        self._alert_slots = asyncio.Semaphore(ALERT_LOOKUP_SLOTS)
        self._alert_lookups = 0
        self._alerts_read: asyncio.Task[dict[str, Any]] | None = None
        self._gauge = Gauge(
            "callcenter_websocket_connections",
            "Open, authenticated console WebSocket connections.",
            ["role"],
            registry=registry,
        )
        for role in Role:
            self._gauge.labels(role=role.value)
        self.pause_reason = self.config.pause_reason
        if self.pause_reason not in self.acd.pause_reasons:
            log.warning(
                "pause reason %r is not in acd.pause_reasons: consoles closed past the grace"
                " period pause their agent with %r",
                self.pause_reason,
                FALLBACK_PAUSE_REASON,
            )
            self.pause_reason = FALLBACK_PAUSE_REASON

    # ----- lifecycle -------------------------------------------------------------------

    async def run(self) -> None:
        """The ticker: coalesced supervisor updates and the reconnect grace period."""
        while True:
            await asyncio.sleep(self.config.update_interval_seconds)
            try:
                self.tick()
            except Exception:
                log.exception("websocket hub tick failed")

    async def close(self) -> None:
        """Close every console (1001) and stop the lookups; the sessions end on their own."""
        for connection in list(self._counted):
            connection.close(Close.GOING_AWAY, "server shutting down")
        # Lookups are let finish first: a query cancelled mid-flight makes SQLAlchemy tear
        # its aiosqlite connection down while the close it started still waits on the
        # connection's thread, which then never answers (a task pending forever).
        await self._tasks.settle(LOOKUP_DRAIN_SECONDS)

    async def running(self, app: web.Application) -> AsyncIterator[None]:
        """An aiohttp cleanup context: the ticker runs while the application does."""
        ticker = asyncio.create_task(self.run(), name="websocket-hub")
        try:
            yield
        finally:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker
            await self.close()

    async def shutdown(self, app: web.Application) -> None:
        """on_shutdown: tell the consoles before the server stops."""
        for connection in list(self._counted):
            connection.close(Close.GOING_AWAY, "server shutting down")

    # ----- connections -----------------------------------------------------------------

    @property
    def consoles(self) -> set[str]:
        return {a for a, s in self._sessions.items() if s.connection is not None}

    async def change_acd(self, command: Command) -> None:
        """Submit a change a console waits for (refused at once while Redis fails)."""
        await submit_change(self.acd_store, command, self.health)

    def attach(self, connection: Connection) -> None:
        """A console authenticated: say hello and bring it up to date."""
        now = self.clock.now()
        self._counted.add(connection)
        self._gauge.labels(role=connection.role.value).inc()
        if connection.role is Role.SUPERVISOR:
            self._supervisors.add(connection)
            connection.push(self._hello(connection, now, resumed=False))
            connection.push(self.pending_snapshot())
            return
        agent_id = connection.principal.username
        agent = self.acd.agent(agent_id)
        session = self._session(agent_id)
        previous = session.connection
        if previous is not None:
            previous.close(Close.REPLACED, "another console of this agent connected")
        away = session.disconnected_at
        resumed = previous is not None or (
            away is not None and now - away < self.config.reconnect_grace_seconds
        )
        session.connection, session.disconnected_at = connection, None
        self._dirty_agents.add(agent_id)
        connection.push(self._hello(connection, now, resumed=resumed))
        connection.push(views.state_message(agent, now))
        live = session.call
        if live is not None:
            connection.push(PendingOffer(live, connection, self.config.screen_pop_timeout_seconds))
            if live.connected is not None:
                connection.push(live.connected)
            if live.held is not None:
                connection.push(live.held)
        elif session.wrap_up is not None and agent.state is AgentState.WRAP_UP:
            connection.push(self._wrap_up_message(session.wrap_up, now))

    def detach(self, connection: Connection) -> None:
        """A console closed; its agent's calls and state are left alone."""
        if connection not in self._counted:
            return
        self._counted.discard(connection)
        self._gauge.labels(role=connection.role.value).dec()
        if connection.role is Role.SUPERVISOR:
            self._supervisors.discard(connection)
            return
        session = self._sessions.get(connection.principal.username)
        if session is not None and session.connection is connection:
            session.connection, session.disconnected_at = None, self.clock.now()
            self._dirty_agents.add(session.agent_id)
            if session.call is not None:
                session.call.awaiting_pop[:] = [
                    c for c in session.call.awaiting_pop if c is not connection
                ]

    def session(self, agent_id: str) -> AgentSession:
        return self._session(agent_id)

    def _session(self, agent_id: str) -> AgentSession:
        session = self._sessions.get(agent_id)
        if session is None:
            session = self._sessions[agent_id] = AgentSession(agent_id)
        return session

    def _hello(self, connection: Connection, now: float, resumed: bool) -> dict[str, Any]:
        return {
            "type": "hello",
            "protocol": PROTOCOL_VERSION,
            "role": connection.role.value,
            "username": connection.principal.username,
            "at": now,
            "expires_at": connection.principal.expires_at,
            "resumed": resumed,
            "max_message_bytes": self.config.max_message_bytes,
            "ping_interval_seconds": self.config.ping_interval_seconds,
            "call_control": self.call_control is not None,
            # What an agent may give for a pause: the configured reasons without the ACD's
            # own (a failed offer) and the one a closed console gets.
            "pause_reasons": sorted(
                self.acd.pause_reasons - SYSTEM_PAUSE_REASONS - {self.pause_reason}
            ),
            "dispositions": list(self.config.dispositions),
        }

    # ----- ACD events ------------------------------------------------------------------

    def on_event(self, event: ev.AcdEvent) -> None:
        """The EventBus subscriber: synchronous, never blocks, never raises into the ACD."""
        self._mark_dirty(event)
        match event:
            case ev.AgentStateChanged():
                self._state_changed(event)
            case ev.CallOffered():
                self._offered(event)
            case ev.CallAnswered():
                self._answered(event.agent_id, event.call_id, event.queue, event.wait_seconds)
            case ev.CallbackConnected():
                self._answered(event.agent_id, event.call_id, event.queue, None)
            case ev.CallCompleted():
                self._ended(event.agent_id, event.call_id, "completed", talk=event.talk_seconds)
            case ev.OfferWithdrawn():
                cause = event.reason.value if event.reason else None
                self._ended(event.agent_id, event.call_id, "withdrawn", cause=cause)
            case ev.CallTransferred() if event.from_agent is not None:
                talk = event.talk_seconds
                self._ended(event.from_agent, event.call_id, "transferred", talk=talk)
            case _:
                pass

    def _state_changed(self, event: ev.AgentStateChanged) -> None:
        session = self._sessions.get(event.agent_id)
        if session is None:
            return
        try:
            agent = self.acd.agent(event.agent_id)
        except UnknownAgent:
            return
        now = self.clock.now()
        self._push(session, views.state_message(agent, now, event))
        if event.new is AgentState.WRAP_UP:
            queue = self._queue_of_call(session, event.call_id)
            seconds = self.acd.queue_settings(queue).wrap_up_seconds if queue else 0.0
            session.wrap_up = {"call_id": event.call_id, "started_at": now, "seconds": seconds}
            self._push(session, self._wrap_up_message(session.wrap_up, now))
        elif event.old is AgentState.WRAP_UP:
            session.wrap_up = None

    def _queue_of_call(self, session: AgentSession, call_id: str | None) -> str | None:
        if session.call is not None and session.call.call_id == call_id:
            return session.call.queue
        if call_id is not None and self.acd.has_call(call_id):
            return self.acd.call(call_id).queue
        return self._last_queue.get(session.agent_id)

    def _wrap_up_message(self, wrap_up: dict[str, Any], now: float) -> dict[str, Any]:
        left = max(0.0, wrap_up["started_at"] + wrap_up["seconds"] - now)
        return {
            "type": "wrap_up",
            "at": now,
            "call_id": wrap_up["call_id"],
            "seconds": wrap_up["seconds"],
            "remaining_seconds": left,
        }

    def _offered(self, event: ev.CallOffered) -> None:
        session = self._session(event.agent_id)
        now = self.clock.now()
        caller: str | None = None
        waited = 0.0
        ivr: dict[str, str] | None = None
        if self.acd.has_call(event.call_id):
            acd_call = self.acd.call(event.call_id)
            caller, waited = acd_call.caller, max(0.0, now - acd_call.enqueued_at)
            ivr = dict(acd_call.attributes) or None
        offer = {
            "type": "offer",
            "at": now,
            "call_id": event.call_id,
            "queue": event.queue,
            "caller": caller,
            "callback": event.callback,
            "ring_timeout_seconds": event.ring_timeout_seconds,
            "waited_seconds": waited,
            "ivr": ivr,
        }
        self._add_audio_url(offer, event.agent_id, event.call_id)
        live = LiveCall(event.call_id, event.queue, offer)
        session.call = live
        self._last_queue[event.agent_id] = event.queue
        number = event.callback or caller
        if number is None:
            live.pop_status = "none"
        else:
            live.lookup = self._tasks.spawn(
                self._lookup(live, number, now), f"screen-pop-{event.call_id}"
            )
        if session.connection is not None:
            self._push(
                session,
                PendingOffer(live, session.connection, self.config.screen_pop_timeout_seconds),
            )

    async def _lookup(self, live: LiveCall, number: str, now: float) -> dict[str, Any]:
        try:
            pop = await asyncio.wait_for(
                screen_pop.lookup(self.store, number, now, self.kb),
                self.config.screen_pop_deadline_seconds,
            )
        except Exception as exc:
            if not isinstance(exc, TimeoutError):
                log.exception("screen pop lookup failed for call %s", live.call_id)
            live.pop_status = "failed"
            self._pop_ready(live, None)
            return {}
        if live.pop_status == "done":  # the agent identified the caller meanwhile
            return pop
        live.screen_pop, live.pop_status = pop, "done"
        self._pop_ready(live, pop)
        return pop

    async def identify_caller(self, agent_id: str, call_id: str, username: str) -> dict[str, Any]:
        """The agent says who calls: the call record and its ticket become the employee's
        (directory/caller_identity.py), and the console gets their screen pop (the reply's
        and a `screen_pop` push, kept for a reconnect). Unknown employee: LookupError."""
        if not isinstance(self.store, SqlTicketStore):
            raise TypeError("identifying callers needs the SQL ticket store")
        now = self.clock.now()
        identified = await identify_caller(
            self.store,
            call_id,
            username,
            actor=agent_id,
            now=datetime.fromtimestamp(now, UTC),
            window_hours=self.config.attach_window_hours,
        )
        session = self._sessions.get(agent_id)
        live = session.call if session is not None else None
        offer = live.offer if live is not None and live.call_id == call_id else {}
        caller = offer.get("callback") or offer.get("caller")
        number = caller if isinstance(caller, str) else ""
        pop = await screen_pop.lookup(self.store, number, now, self.kb, username=username)
        if session is not None and live is not None and live.call_id == call_id:
            live.screen_pop, live.pop_status = pop, "done"
            live.awaiting_pop = []
            if session.connection is not None:
                self._deliver(
                    session.connection,
                    {"type": "screen_pop", "at": now, "call_id": call_id, "screen_pop": pop},
                )
        return {"call_id": call_id, "ticket_id": identified.ticket_id, "screen_pop": pop}

    def _pop_ready(self, live: LiveCall, pop: dict[str, Any] | None) -> None:
        waiting, live.awaiting_pop = live.awaiting_pop, []
        now = self.clock.now()
        for connection in waiting:
            message: dict[str, Any]
            if pop is None:
                message = {
                    "type": "error",
                    "id": None,
                    "code": "screen_pop_failed",
                    "message": "the caller's details could not be read in time",
                    "call_id": live.call_id,
                }
            else:
                message = {
                    "type": "screen_pop",
                    "at": now,
                    "call_id": live.call_id,
                    "screen_pop": pop,
                }
            self._deliver(connection, message)

    def on_hold_changed(self, event: CallHoldChanged) -> None:
        """The EventBus subscriber for holds by a console (this or another one of the agent)."""
        session = self._sessions.get(event.agent_id)
        if session is None:
            return
        message = {
            "type": "call_held",
            "at": event.at,
            "call_id": event.call_id,
            "held": event.held,
        }
        live = session.call
        if live is not None and live.call_id == event.call_id:
            live.held = message if event.held else None
        self._push(session, message)

    def on_transfer_changed(self, event: TransferChanged) -> None:
        """The EventBus subscriber for the agent's transfers: a `transfer` push at each
        step, and an unsolicited error when one failed (the caller is back or waiting)."""
        session = self._sessions.get(event.agent_id) if event.agent_id is not None else None
        if session is None:
            return
        self._push(
            session,
            {
                "type": "transfer",
                "at": event.at,
                "call_id": event.call_id,
                "mode": event.mode,
                "target": event.target,
                "state": event.state,
                "reason": event.reason,
            },
        )
        if event.state == "failed":
            message = f"the transfer to {event.target} failed ({event.reason})"
            self._push(
                session,
                {
                    "type": "error",
                    "id": None,
                    "code": "transfer_failed",
                    "message": message,
                    "call_id": event.call_id,
                },
            )

    def _answered(self, agent_id: str, call_id: str, queue: str, wait: float | None) -> None:
        session = self._session(agent_id)
        message = {
            "type": "call_connected",
            "at": self.clock.now(),
            "call_id": call_id,
            "queue": queue,
            "wait_seconds": wait,
        }
        self._add_audio_url(message, agent_id, call_id)
        if session.call is not None and session.call.call_id == call_id:
            session.call.connected = message
        self._push(session, message)

    def _add_audio_url(self, message: dict[str, Any], agent_id: str, call_id: str) -> None:
        url = self.audio_url(agent_id, call_id) if self.audio_url is not None else None
        if url is not None:
            message["audio_url"] = url

    def _ended(
        self,
        agent_id: str,
        call_id: str,
        reason: str,
        *,
        talk: float | None = None,
        cause: str | None = None,
    ) -> None:
        session = self._sessions.get(agent_id)
        if session is None:
            return
        live = session.call
        if live is not None and live.call_id == call_id:
            session.call = None
            if live.lookup is not None and not live.lookup.done():
                live.lookup.cancel()
                live.pop_status = "none"
                live.awaiting_pop.clear()
        if reason != "withdrawn":
            session.ended_call_id = call_id
        message = {
            "type": "call_ended",
            "at": self.clock.now(),
            "call_id": call_id,
            "reason": reason,
            "cause": cause,
            "talk_seconds": talk,
        }
        self._push(session, message)

    def _push(self, session: AgentSession, item: Outgoing) -> None:
        if session.connection is not None:
            self._deliver(session.connection, item)

    def _deliver(self, connection: Connection, item: Outgoing) -> None:
        if connection.push(item):
            return
        if connection.role is Role.SUPERVISOR:
            connection.reset(self.pending_snapshot(fresh=False))
        else:
            connection.close(Close.TOO_SLOW, "the console reads too slowly")

    # ----- ticket alerts ---------------------------------------------------------------

    def on_ticket_alert(self, event: alerts.AlertEvent) -> None:
        """The EventBus subscriber for SLA warnings and breaches and complaint escalations:
        a `ticket_alert` to every supervisor and to the agents the ticket concerns, once
        its ticket is read (bounded; a failed read still alerts the supervisors)."""
        alert = alerts.from_event(event, self.clock.now())
        if alert is None:
            return
        if self._alert_lookups >= ALERT_LOOKUP_BACKLOG:
            log.warning("alert backlog full: ticket %d alerted bare", alert.ticket_id)
            self._send_alert(alert, None)
            return
        self._alert_lookups += 1
        self._tasks.spawn(self._alert_lookup(alert), f"ticket-alert-{alert.ticket_id}")

    async def _alert_lookup(self, alert: OpenAlert) -> dict[str, Any]:
        ticket: Ticket | None = None
        try:
            async with self._alert_slots:
                ticket = await asyncio.wait_for(
                    self.store.ticket(alert.ticket_id), self.config.alerts_deadline_seconds
                )
        except Exception as exc:
            if not isinstance(exc, TimeoutError):
                log.exception("ticket lookup failed for the alert on ticket %d", alert.ticket_id)
        finally:
            self._alert_lookups -= 1
        return self._send_alert(alert, ticket)

    def _send_alert(self, alert: OpenAlert, ticket: Ticket | None) -> dict[str, Any]:
        if ticket is not None:
            alert = alerts.with_ticket(alert, ticket)
        message = alerts.alert_message(alert)
        for connection in list(self._supervisors):
            self._deliver(connection, message)
        for session in list(self._sessions.values()):
            if session.connection is None:
                continue
            call_ids = (session.call.call_id if session.call else None, session.ended_call_id)
            if alerts.concerns_agent(ticket, session.agent_id, call_ids):
                self._push(session, message)
        return message

    def pending_snapshot(self, *, fresh: bool = True) -> PendingSnapshot:
        """A supervisor snapshot that goes out with the open ticket alerts: read afresh
        for a console that connects; a slow one's replacement snapshot shares a read in
        flight (a tick can overflow every board at once)."""
        read = self._alerts_read
        if fresh or read is None or read.done():
            read = self._alerts_read = self._tasks.spawn(self._read_open_alerts(), "open-alerts")
        return PendingSnapshot(self, read)

    async def open_alert_items(self) -> list[dict[str, Any]] | None:
        """The open ticket alerts (newest first), or None if not read in time."""
        read = self._tasks.spawn(self._read_open_alerts(), "open-alerts")
        await asyncio.wait({read}, timeout=self.config.alerts_timeout_seconds)
        return _alerts_of(read)

    async def _read_open_alerts(self) -> dict[str, Any]:
        # Only a SQL store keeps what the monitors announced.
        if not isinstance(self.store, SqlTicketStore):
            return {"alerts": []}
        try:
            found = await asyncio.wait_for(
                open_alerts(self.store), self.config.alerts_deadline_seconds
            )
        except Exception as exc:
            if not isinstance(exc, TimeoutError):
                log.exception("open ticket alerts could not be read")
            return {}
        return {"alerts": [alerts.alert_item(a) for a in found]}

    # ----- supervisors -----------------------------------------------------------------

    def on_monitoring_changed(self, event: MonitoringChanged) -> None:
        """The EventBus subscriber for supervisions: a `monitoring` push to every open
        console of the supervisor."""
        message = {
            "type": "monitoring",
            "at": event.at,
            "call_id": event.call_id,
            "agent": event.agent_id,
            "mode": event.mode,
            "state": event.state,
            "reason": event.reason,
        }
        for connection in list(self._supervisors):
            if connection.principal.username == event.supervisor:
                self._deliver(connection, message)

    def _mark_dirty(self, event: ev.AcdEvent) -> None:
        for name in ("queue", "from_queue", "to_queue"):
            queue = getattr(event, name, None)
            if isinstance(queue, str):
                self._dirty_queues.add(queue)
        for name in ("agent_id", "from_agent", "to_agent", "answered_by"):
            agent_id = getattr(event, name, None)
            if isinstance(agent_id, str):
                self._dirty_agents.add(agent_id)
        if isinstance(event, ev.AgentStateChanged | ev.AgentMembershipChanged):
            with contextlib.suppress(UnknownAgent):
                self._dirty_queues.update(self.acd.agent(event.agent_id).queues)
        if isinstance(event, ev.AgentMembershipChanged):
            self._dirty_queues.update(event.queues)

    def tick(self) -> None:
        """Expire the grace periods, then send the supervisors what changed."""
        self._expire_grace()
        queues, agents = self._dirty_queues, self._dirty_agents
        self._dirty_queues, self._dirty_agents = set(), set()
        if not self._supervisors or not (queues or agents):
            return
        now = self.clock.now()
        consoles = self.consoles
        messages: list[dict[str, Any]] = []
        for name in sorted(queues & set(self.acd.queue_names)):
            messages.append({"type": "queue", "at": now, **views.queue_item(self.acd, name, now)})
        for agent_id in sorted(agents):
            with contextlib.suppress(UnknownAgent):
                agent = self.acd.agent(agent_id)
                item = views.agent_item(self.acd, agent, now, agent_id in consoles)
                messages.append({"type": "agent", "at": now, **item})
        for connection in list(self._supervisors):
            for message in messages:
                if not connection.push(message):
                    self._deliver(connection, message)  # replaced by a snapshot
                    break

    def _expire_grace(self) -> None:
        now = self.clock.now()
        grace = self.config.reconnect_grace_seconds
        for session in self._sessions.values():
            away = session.disconnected_at
            if session.connection is not None or away is None or now - away < grace:
                continue
            session.disconnected_at = None
            try:
                if self.acd.agent(session.agent_id).state is AgentState.AVAILABLE:
                    pause = SetAgentState(session.agent_id, AgentState.PAUSED, self.pause_reason)
                    fire(self.acd_store, pause)
                    log.info("agent %s paused: console closed", session.agent_id)
            except AcdError:
                log.exception("could not pause agent %s", session.agent_id)


#: Where the application keeps its hub (the sockets' handlers look it up per request).
HUB = web.AppKey("websocket_hub", Hub)
