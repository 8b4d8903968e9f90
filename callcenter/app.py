"""The composition root: builds every adapter from the settings, wires them, runs, stops.

Nothing else in the code base constructs an adapter; everything receives what it needs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import resource
import secrets
import signal
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from prometheus_client import (
    CollectorRegistry,
    Counter,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
)
from redis.exceptions import RedisError
from sqlalchemy.exc import DataError, IntegrityError

from callcenter.accounts.exposure import only_this_machine, published_passwords_in_use
from callcenter.acd.acd import Acd
from callcenter.acd.commands import AddAgent
from callcenter.acd.events import AcdEvent, CallAbandoned, CallCompleted
from callcenter.acd_store import AcdStore, LocalAcdStore
from callcenter.acd_store.redis_log import LogClock, RedisAcdStore
from callcenter.acd_store.store import fire
from callcenter.api import cmdb as cmdb_api
from callcenter.api import problems as problems_api
from callcenter.api.admin import membership_command
from callcenter.api.app import build_app
from callcenter.api.deps import ApiDeps
from callcenter.api.websocket import Hub, WebSocketConfig
from callcenter.api.websocket.audio import AUDIO, AudioSource, audio_ws_url
from callcenter.auth.tokens import TokenSigner
from callcenter.calls.acd_memory import AcdMemory
from callcenter.calls.control import CallFlowControl
from callcenter.calls.events import (
    CallHoldChanged,
    MonitoringChanged,
    QueueAnnouncementPlayed,
    TransferChanged,
)
from callcenter.calls.recorder import CallRecorder, Spool, programming_error
from callcenter.calls.remote_legs import RemoteLegs
from callcenter.calls.service import CALLBACK_PROMPT, OVERFLOW_PROMPT, CallPolicy, CallService
from callcenter.calls.transfer import TransferPolicy
from callcenter.clock import SystemClock
from callcenter.complaints.model import ComplaintEscalated, ComplaintLimits
from callcenter.console import PEER_AUDIO
from callcenter.db.migrate import pending_revision
from callcenter.demo import published_passwords
from callcenter.events import EventBus
from callcenter.health import Health
from callcenter.ivr.announcements import announcement_prompts
from callcenter.ivr.events import IvrFinished
from callcenter.ivr.flowfile import IvrConfigError, load_flows
from callcenter.ivr.prompts import PromptError, PromptLibrary
from callcenter.knowledge.store import SqlKnowledgeBase
from callcenter.metrics.acd_metrics import AcdMetrics
from callcenter.metrics.announcement_metrics import AnnouncementMetrics
from callcenter.metrics.bridge_metrics import BridgeMetrics
from callcenter.metrics.ivr_metrics import IvrMetrics
from callcenter.metrics.ticket_metrics import TicketMetrics
from callcenter.probes import Probes
from callcenter.settings import Settings
from callcenter.softphone_bridge import messages as m
from callcenter.softphone_bridge.bridge import SipBridge
from callcenter.tasks import TaskOwner
from callcenter.tickets.priority import PriorityMatrix
from callcenter.tickets.records import CallOutcome, Role
from callcenter.tickets.service_monitor import AutoCloser, ComplaintMonitor, ProblemScanner
from callcenter.tickets.sla_monitor import (
    LiveSlaMonitor,
    SlaBreached,
    SlaEvent,
    SlaWarning,
    sla_setup,
)
from callcenter.tickets.store import SqlTicketStore, open_store

log = logging.getLogger(__name__)

#: SIGTERM to exit: BYE to every call and every record written within this budget.
SHUTDOWN_SECONDS = 4.5


#: How often open call records are stamped alive: the most a SIGKILL can cost their end.
CALL_HEARTBEAT_SECONDS = 5.0


class StartupError(Exception):
    """Start-up cannot go on; one line for the operator, exit status 2."""


@dataclass
class _Health:
    ready: bool = False

    def __call__(self) -> bool:
        return self.ready


def _observe_bridge(bus: EventBus, metrics: BridgeMetrics, service: CallService) -> None:
    """SIP health figures from the bridge's events (the active count after the call flow
    has seen the event, hence subscribed after it)."""

    def accepted(event: m.InboundCall) -> None:
        metrics.invite_answered(200)
        metrics.set_active_calls(len(service.call_ids))

    def refused(event: m.CallRefused) -> None:
        metrics.refused(event.reason)
        metrics.invite_answered(event.status_code)

    bus.subscribe(m.InboundCall, accepted)
    bus.subscribe(m.CallRefused, refused)
    bus.subscribe(m.RtpTimedOut, lambda _: metrics.rtp_timed_out())
    bus.subscribe(m.LegEnded, lambda _: metrics.set_active_calls(len(service.call_ids)))


async def _check_schema(store: SqlTicketStore) -> None:
    try:
        behind = await pending_revision(store.engine)
    except Exception as exc:
        raise StartupError(
            f"the database is not ready ({type(exc).__name__}): run `callcenter db upgrade`"
        ) from None
    if behind is not None:
        raise StartupError(
            f"the database schema is at revision {behind}, not the newest:"
            " run `callcenter db upgrade`"
        )


def _raise_open_files_limit() -> None:
    """About four sockets per call leg: Debian's soft limit of 1024 files is too low."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 65536 if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


async def serve(
    settings: Settings, stop: asyncio.Event | None = None, *, insecure_demo: bool = False
) -> int:
    """Run the call center until `stop` (or SIGINT/SIGTERM). `insecure_demo` lets it
    listen beyond loopback with the demo's passwords or without a token secret."""
    _raise_open_files_limit()
    loop = asyncio.get_running_loop()
    stop = stop or asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    clock = SystemClock()
    bus = EventBus()
    health = _Health()
    dependencies = Health(clock)

    prompts = PromptLibrary(settings.prompts.directory)
    try:
        flows = load_flows(settings.ivr.file)
        prompts.require([OVERFLOW_PROMPT, CALLBACK_PROMPT])
        announcing = any(q.announcements.enabled for q in settings.acd.queues)
        for flow in flows.flows.values():
            library = PromptLibrary(settings.prompts.directory, flow.language)
            library.require(flow.prompt_names())
            if announcing:
                library.require(announcement_prompts(flow.language))
    except (PromptError, IvrConfigError) as exc:
        raise StartupError(str(exc)) from None
    if not settings.prompts.music_on_hold.is_file():
        raise StartupError(
            f"prompts.music_on_hold: no file {settings.prompts.music_on_hold}"
            " (Debian package asterisk-moh-opsound-wav)"
        )

    store = open_store(settings.database.url, settings.ticketing.default_region)
    store.sla = sla_setup(settings.ticketing)  # the SLA clocks new tickets get
    try:
        await _check_schema(store)
        shared = bool(settings.redis.url)
        if not shared:  # in a cluster the open records are other processes' live calls
            recovered = await store.recover_interrupted_calls(_now_utc(clock))
            if recovered:
                log.warning("closed %d call records left in progress by a previous run", recovered)

        registry = CollectorRegistry()
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        GCCollector(registry=registry)
        spooled = Counter(
            "callcenter_call_record_writes_spooled",
            "Call-record writes the database refused for their content, kept in the spool file.",
            registry=registry,
        )
        spool = Spool(settings.database.spool_file, spooled.inc)
        recorder = CallRecorder(permanent=_permanent_write_error, spool=spool)
        acd_store = await _start_acd_store(settings, clock, bus)
        memory = AcdMemory(acd_store, store, recorder, clock)
        acd = acd_store.acd
        # A shared ACD that already has agents is the cluster's; else the saved one wins.
        if not acd.agents and await memory.restore():
            log.info("ACD state restored: agents, queued callbacks and statistics")
            if isinstance(acd_store, RedisAcdStore) and not await acd_store.seed():
                raise StartupError("redis: another process started the shared ACD meanwhile")
        bus.subscribe(AcdEvent, memory.on_event)
        endpoints: dict[str, str] = {}
        supervisor_phones: dict[str, str] = {}  # listen, whisper, barge
        for account in await store.agent_accounts():
            if account.role is not Role.AGENT:
                if account.role is Role.SUPERVISOR and account.sip_uri:
                    supervisor_phones[account.username] = account.sip_uri
                continue
            queues = tuple(q for q in account.queues if q in acd.queue_names)
            fire(acd_store, AddAgent(account.username, queues, dict(account.skills)))
            fire(acd_store, membership_command(account, acd.queue_names))  # levels, penalties
            if account.sip_uri:
                endpoints[account.username] = account.sip_uri

        acd_metrics = AcdMetrics(registry, acd, clock, lambda: acd_store.applying_own)
        bus.subscribe(AcdEvent, acd_metrics.on_event)
        bridge_metrics = BridgeMetrics(registry)
        flow_hours = {flow.name: flow.hours for flow in flows.flows.values()}
        bus.subscribe(IvrFinished, IvrMetrics(registry, flow_hours, clock).on_event)
        bus.subscribe(QueueAnnouncementPlayed, AnnouncementMetrics(registry).on_event)
        ticket_metrics = TicketMetrics(registry)
        bus.subscribe(SlaEvent, ticket_metrics.on_event)
        bus.subscribe(ComplaintEscalated, ticket_metrics.on_complaint_escalated)

        bridge = SipBridge(settings.sip, settings.prompts.music_on_hold, bus.publish)
        service = CallService(
            acd_store=acd_store,
            bus=bus,
            telephony=bridge,
            store=store,
            recorder=recorder,
            prompts=prompts,
            flows=flows,
            policy=CallPolicy(
                default_region=settings.ticketing.default_region,
                attach_window_hours=settings.ticketing.attach_window_hours,
                default_queue=settings.acd.default_queue,
                callback_keys={
                    q.name: q.callback_key for q in settings.acd.queues if q.callback_key
                },
                announcements={q.name: q.announcements for q in settings.acd.queues},
                outbound_uri_template=settings.sip.outbound_uri_template,
                outbound_ring_timeout_seconds=settings.sip.outbound_ring_timeout_seconds,
                early_media=settings.sip.early_media,
                transfer=TransferPolicy(
                    settings.sip.transfer_mode,
                    settings.sip.transfer_template,
                    settings.sip.transfer_timeout_seconds,
                ),
            ),
            clock=clock,
            agent_endpoints=endpoints,
            supervisor_phones=supervisor_phones,
        )
        _observe_bridge(bus, bridge_metrics, service)
        _close_lost_records(bus, acd_store, store, recorder)

        secret = settings.auth.token_secret.get_secret_value().encode()
        if not insecure_demo:
            await _refuse_published_credentials(settings, store, secret)
        if not secret:
            log.warning("auth.token_secret is empty: tokens last only as long as this process")
            secret = secrets.token_bytes(32)
        tokens = TokenSigner(secret, settings.auth.token_ttl_seconds, clock)
        remote_legs = None
        if isinstance(acd_store, RedisAcdStore):  # hold, resume, accept, DTMF reach the legs
            remote_legs = RemoteLegs(
                settings.redis.url or "",
                settings.redis.key_prefix,
                acd_store.node_id,
                acd_store.owner,
                bus.publish,
                clock,
            )
        call_control = CallFlowControl(service, acd_store, store, clock, remote_legs)
        own_url = settings.http.base_url()

        def audio_url(agent_id: str, call_id: str) -> str | None:
            """A browser agent's call audio is on the process holding the call's legs."""
            if not service.uses_browser(agent_id):
                return None
            if isinstance(acd_store, RedisAcdStore):
                base = acd_store.public_url(call_id)
            else:
                base = own_url
            return audio_ws_url(base) if base else None

        kb = SqlKnowledgeBase(store)
        hub = Hub(
            acd_store=acd_store,
            store=store,
            tokens=tokens,
            clock=clock,
            registry=registry,
            config=WebSocketConfig(
                allowed_origins=frozenset(settings.http.allowed_origins),
                dispositions=tuple(settings.acd.dispositions),
                attach_window_hours=settings.ticketing.attach_window_hours,
            ),
            call_control=call_control,
            kb=kb,
            audio_url=audio_url,
            health=dependencies,
        )
        bus.subscribe(AcdEvent, hub.on_event)
        bus.subscribe(CallHoldChanged, hub.on_hold_changed)
        bus.subscribe(TransferChanged, hub.on_transfer_changed)
        bus.subscribe(MonitoringChanged, hub.on_monitoring_changed)
        bus.subscribe(SlaWarning, hub.on_ticket_alert)
        bus.subscribe(SlaBreached, hub.on_ticket_alert)
        bus.subscribe(ComplaintEscalated, hub.on_ticket_alert)
        matrix = PriorityMatrix.from_data(settings.ticketing.priority_matrix)
        deps = ApiDeps(
            acd_store,
            store,
            tokens,
            registry,
            clock,
            health,
            kb,
            matrix,
            settings.auth.login_policy(),
            dependencies,
        )
        app = build_app(deps, hub)
        app[AUDIO] = AudioSource(bridge.browser_audio, service.legs)
        problem_scanner = ProblemScanner(
            store,
            clock,
            settings.ticketing.problem_threshold,
            timedelta(days=settings.ticketing.problem_window_days),
        )
        app[problems_api.SCANNER] = problem_scanner  # POST /api/v1/problems/scan
        app[cmdb_api.NAMING] = settings.ticketing.naming.policy()  # items' names
        if isinstance(acd_store, RedisAcdStore):
            shared_store = acd_store
            app[PEER_AUDIO] = lambda: {audio_ws_url(u) for u in shared_store.public_urls()}
        # lingering_time=0: a body the handler did not read is not read and thrown away
        # afterwards (aiohttp would for 10 s); the connection closes after the reply.
        runner = web.AppRunner(app, handle_signals=False, access_log=None, lingering_time=0)
        await runner.setup()
        try:
            site = web.TCPSite(runner, settings.http.host, settings.http.port)
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise StartupError(
                f"http.port: cannot listen on {settings.http.port}: {exc.strerror}"
            ) from None

        background = TaskOwner("serve")
        background.spawn(recorder.run(), "call-recorder")
        background.spawn(service.run_timers(), "acd-timers")
        sla_monitor = LiveSlaMonitor(store, bus.publish, clock)
        background.spawn(sla_monitor.run(settings.ticketing.sla_scan_seconds), "sla-monitor")
        complaint_monitor = ComplaintMonitor(
            store,
            bus.publish,
            clock,
            ComplaintLimits(*settings.ticketing.complaint_limits_seconds),
        )
        background.spawn(
            problem_scanner.run(settings.ticketing.problem_scan_seconds), "problem-scan"
        )
        background.spawn(
            complaint_monitor.run(settings.ticketing.complaint_scan_seconds), "complaint-monitor"
        )
        if settings.ticketing.auto_close_days > 0:
            closer = AutoCloser(store, clock, timedelta(days=settings.ticketing.auto_close_days))
            background.spawn(closer.run(), "auto-close")
        memory_task = background.spawn(memory.run(), "acd-memory")
        redis_ping = acd_store.ping if isinstance(acd_store, RedisAcdStore) else None
        probes = Probes(dependencies, store.engine, redis_ping, lambda: bridge.alive)
        try:
            if remote_legs is not None:
                remote_legs.serve(call_control.on_legs_here)
                await remote_legs.start()
            try:
                await bridge.start()
            except Exception as exc:
                raise StartupError(f"sip: the SIP bridge did not start: {exc}") from None
            acd_store.tick()  # restored timers (wrap-up, callbacks) act now that events flow
            probing = background.spawn(probes.run(), "readiness-probes")
            background.spawn(_heartbeat(service, store, clock), "call-heartbeat")
            health.ready = True
            log.info(
                "call center ready: SIP %s:%d, HTTP %s:%d",
                settings.sip.host,
                settings.sip.port,
                settings.http.host,
                settings.http.port,
            )
            await stop.wait()
            log.info("stopping: refusing new calls, hanging up %d", len(service.call_ids))
            health.ready = False
            probing.cancel()  # the bridge stops next: not a failure to report
            service.shutting_down = True
            bridge.stop_accepting()
            deadline = loop.time() + SHUTDOWN_SECONDS
            await bridge.stop(timeout=SHUTDOWN_SECONDS - 1.5)
            await asyncio.sleep(0.05)  # let the last bridge events reach the loop
            memory_task.cancel()  # its last history batch and state go to the recorder
            await asyncio.gather(memory_task, return_exceptions=True)
            await recorder.drain(max(0.2, deadline - loop.time()))
        finally:
            await service.close()
            if remote_legs is not None:
                await remote_legs.close()
            await acd_store.close()
            await background.close()  # the newest first: the ACD memory, ..., the recorder
            await bridge.stop()
            await runner.cleanup()
    finally:
        await store.close()
    log.info("stopped")
    return 0


async def _start_acd_store(settings: Settings, clock: SystemClock, bus: EventBus) -> AcdStore:
    """The ACD in this process, or this process's copy of the one shared through Redis."""
    queues = [q.to_domain() for q in settings.acd.queues]
    options: dict[str, Any] = {
        "pause_reasons": settings.acd.pause_reasons,
        "utc_offset_seconds": settings.acd.utc_offset_hours * 3600,
    }
    if not settings.redis.url:
        rng = random.Random(settings.acd.random_seed)
        return LocalAcdStore(Acd(queues, clock, bus.publish, rng=rng, **options))
    log_clock = LogClock(clock)
    # Every copy must draw the same random choices: one seed for all processes.
    rng = random.Random(settings.acd.random_seed or 0)
    redis_store = RedisAcdStore(
        Acd(queues, log_clock, bus.publish, rng=rng, **options),
        log_clock,
        settings.redis.url,
        prefix=settings.redis.key_prefix,
        lease_seconds=settings.redis.lease_seconds,
        snapshot_seconds=settings.redis.snapshot_seconds,
        public_url=settings.http.base_url(),
    )
    try:
        await redis_store.start()
    except (RedisError, OSError) as exc:
        raise StartupError(f"redis.url: cannot use {settings.redis.url}: {exc}") from None
    return redis_store


def _close_lost_records(
    bus: EventBus,
    acd_store: AcdStore,
    store: SqlTicketStore,
    recorder: CallRecorder,
) -> None:
    """Calls of a lost process end in the ACD through a command of the leader's; the
    leader then closes their records, which their own process can no longer do."""

    def ended(event: CallAbandoned | CallCompleted) -> None:
        if not (acd_store.applying_own and acd_store.ending_lost_calls):
            return
        at, ids = datetime.fromtimestamp(event.at, UTC), [event.call_id]

        async def close() -> None:
            if isinstance(event, CallCompleted):
                # The ACD knows the talk happened even if the lost process never wrote it.
                with contextlib.suppress(LookupError):
                    await store.update_call_record(
                        event.call_id,
                        agent=event.agent_id,
                        answered_at=at - timedelta(seconds=event.talk_seconds),
                        outcome=CallOutcome.ANSWERED,
                    )  # its end: when the lost process last stamped it alive (below)
            await store.recover_interrupted_calls(at, ids)

        recorder.submit(f"record of lost call {event.call_id}", close)

    bus.subscribe(CallAbandoned, ended)
    bus.subscribe(CallCompleted, ended)


async def _heartbeat(service: CallService, store: SqlTicketStore, clock: SystemClock) -> None:
    """Stamp this process's open call records as alive every few seconds: a record left
    open by a SIGKILL then ends at its last stamp, not at the restart that finds it."""
    while True:
        await asyncio.sleep(CALL_HEARTBEAT_SECONDS)
        if call_ids := service.call_ids:
            try:
                await store.mark_calls_alive(call_ids, _now_utc(clock))
            except Exception as exc:  # the database may be down; the next beat tries again
                log.debug("call heartbeat not written: %s", exc)


def _permanent_write_error(exc: Exception) -> bool:
    return programming_error(exc) or isinstance(exc, (IntegrityError, DataError))


def _now_utc(clock: SystemClock) -> datetime:
    return datetime.fromtimestamp(clock.now(), UTC)


async def _refuse_published_credentials(
    settings: Settings, store: SqlTicketStore, secret: bytes
) -> None:
    """On a network, no made-up token secret and no account with the demo's password."""
    host = settings.http.host
    if only_this_machine(host):
        return
    advice = "or start with --insecure-demo to accept the risk"
    if not secret:
        raise StartupError(
            f"auth.token_secret: empty while http.host {host} is reachable from other"
            f" machines; set one of 32 or more characters {advice}"
        )
    exposed = await published_passwords_in_use(await store.agent_accounts(), published_passwords())
    if exposed:
        raise StartupError(
            f"accounts {', '.join(exposed)} still have the demo's published passwords while"
            f" http.host {host} is reachable from other machines; change them with"
            f" `callcenter users passwd NAME` {advice}"
        )
