"""The composition root: builds every adapter from the settings, wires them, runs, stops.

Nothing else in the code base constructs an adapter; everything receives what it needs.
"""

from __future__ import annotations

import asyncio
import logging
import random
import resource
import secrets
import signal
from dataclasses import dataclass
from datetime import UTC, datetime

from aiohttp import web
from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector
from sqlalchemy.exc import DataError, IntegrityError

from callcenter.acd.acd import Acd
from callcenter.acd.events import AcdEvent
from callcenter.api.app import build_app
from callcenter.api.deps import ApiDeps
from callcenter.api.websocket import Hub, WebSocketConfig
from callcenter.auth.tokens import TokenSigner
from callcenter.calls.acd_memory import AcdMemory
from callcenter.calls.recorder import CallRecorder, programming_error
from callcenter.calls.service import OVERFLOW_PROMPT, CallPolicy, CallService
from callcenter.clock import SystemClock
from callcenter.events import EventBus
from callcenter.ivr.events import IvrFinished
from callcenter.ivr.flowfile import IvrConfigError, load_flows
from callcenter.ivr.prompts import PromptError, PromptLibrary
from callcenter.metrics.acd_metrics import AcdMetrics
from callcenter.metrics.bridge_metrics import BridgeMetrics
from callcenter.metrics.ivr_metrics import IvrMetrics
from callcenter.settings import Settings
from callcenter.softphone_bridge import messages as m
from callcenter.softphone_bridge.bridge import SipBridge
from callcenter.ticketing.records import Role
from callcenter.ticketing.store import SqlTicketStore, open_store

log = logging.getLogger(__name__)

#: SIGTERM to exit: BYE to every call and every record written within this budget.
SHUTDOWN_SECONDS = 4.5


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
        metrics.set_active_calls(service.active_calls)

    def refused(event: m.CallRefused) -> None:
        metrics.refused(event.reason)
        metrics.invite_answered(event.status_code)

    bus.subscribe(m.InboundCall, accepted)
    bus.subscribe(m.CallRefused, refused)
    bus.subscribe(m.LegEnded, lambda _: metrics.set_active_calls(service.active_calls))


async def _check_schema(store: SqlTicketStore) -> None:
    try:
        await store.agent_accounts()
    except Exception as exc:
        raise StartupError(
            f"the database is not ready ({type(exc).__name__}): run `callcenter db upgrade`"
        ) from None


def _raise_open_files_limit() -> None:
    """About four sockets per call leg: Debian's soft limit of 1024 files is too low."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 65536 if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


async def serve(settings: Settings, stop: asyncio.Event | None = None) -> int:
    _raise_open_files_limit()
    loop = asyncio.get_running_loop()
    stop = stop or asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    clock = SystemClock()
    bus = EventBus()
    health = _Health()

    prompts = PromptLibrary(settings.prompts.directory)
    try:
        flows = load_flows(settings.ivr.file)
        prompts.require([OVERFLOW_PROMPT])
        for flow in flows.flows.values():
            PromptLibrary(settings.prompts.directory, flow.language).require(flow.prompt_names())
    except (PromptError, IvrConfigError) as exc:
        raise StartupError(str(exc)) from None
    if not settings.prompts.music_on_hold.is_file():
        raise StartupError(
            f"prompts.music_on_hold: no file {settings.prompts.music_on_hold}"
            " (Debian package asterisk-moh-opsound-wav)"
        )

    store = open_store(settings.database.url, settings.ticketing.default_region)
    try:
        await _check_schema(store)
        recovered = await store.recover_interrupted_calls(_now_utc(clock))
        if recovered:
            log.warning("closed %d call records left in progress by a previous run", recovered)

        acd = Acd(
            [q.to_domain() for q in settings.acd.queues],
            clock,
            bus.publish,
            pause_reasons=settings.acd.pause_reasons,
            utc_offset_seconds=settings.acd.utc_offset_hours * 3600,
            rng=random.Random(settings.acd.random_seed),
        )
        recorder = CallRecorder(permanent=_permanent_write_error)
        memory = AcdMemory(acd, store, recorder, clock)
        if await memory.restore():
            log.info("ACD state restored: agents, queued callbacks and statistics")
        bus.subscribe(AcdEvent, memory.on_event)
        endpoints: dict[str, str] = {}
        for account in await store.agent_accounts():
            if account.role is not Role.AGENT:
                continue
            queues = [q for q in account.queues if q in acd.queue_names]
            acd.add_agent(account.username, queues, skills=account.skills)
            if account.sip_uri:
                endpoints[account.username] = account.sip_uri

        registry = CollectorRegistry()
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        GCCollector(registry=registry)
        acd_metrics = AcdMetrics(registry, acd, clock)
        bus.subscribe(AcdEvent, acd_metrics.on_event)
        bridge_metrics = BridgeMetrics(registry)
        bus.subscribe(IvrFinished, IvrMetrics(registry).on_event)

        bridge = SipBridge(settings.sip, settings.prompts.music_on_hold, bus.publish)
        service = CallService(
            acd=acd,
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
            ),
            clock=clock,
            agent_endpoints=endpoints,
        )
        _observe_bridge(bus, bridge_metrics, service)

        secret = settings.auth.token_secret.get_secret_value().encode()
        if not secret:
            log.warning("auth.token_secret is empty: tokens last only as long as this process")
            secret = secrets.token_bytes(32)
        tokens = TokenSigner(secret, settings.auth.token_ttl_seconds, clock)
        hub = Hub(
            acd=acd,
            store=store,
            tokens=tokens,
            clock=clock,
            registry=registry,
            config=WebSocketConfig(allowed_origins=frozenset(settings.http.allowed_origins)),
        )
        bus.subscribe(AcdEvent, hub.on_event)
        app = build_app(ApiDeps(acd, store, tokens, registry, clock, health), hub)
        runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await runner.setup()
        try:
            site = web.TCPSite(runner, settings.http.host, settings.http.port)
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise StartupError(
                f"http.port: cannot listen on {settings.http.port}: {exc.strerror}"
            ) from None

        tasks = [
            asyncio.create_task(recorder.run(), name="call-recorder"),
            asyncio.create_task(service.run_timers(), name="acd-timers"),
        ]
        memory_task = asyncio.create_task(memory.run(), name="acd-memory")
        try:
            try:
                await bridge.start()
            except Exception as exc:
                raise StartupError(f"sip: the SIP bridge did not start: {exc}") from None
            acd.tick()  # restored timers (wrap-up, callbacks) act now that events flow
            health.ready = True
            log.info(
                "call center ready: SIP %s:%d, HTTP %s:%d",
                settings.sip.host,
                settings.sip.port,
                settings.http.host,
                settings.http.port,
            )
            await stop.wait()
            log.info("stopping: refusing new calls, hanging up %d", service.active_calls)
            health.ready = False
            service.shutting_down = True
            bridge.stop_accepting()
            deadline = loop.time() + SHUTDOWN_SECONDS
            await bridge.stop(timeout=SHUTDOWN_SECONDS - 1.5)
            await asyncio.sleep(0.05)  # let the last bridge events reach the loop
            memory_task.cancel()  # its last history batch and state go to the recorder
            await asyncio.gather(memory_task, return_exceptions=True)
            await recorder.drain(max(0.2, deadline - loop.time()))
        finally:
            memory_task.cancel()
            await asyncio.gather(memory_task, return_exceptions=True)
            await service.close()
            for task in reversed(tasks):
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await bridge.stop()
            await runner.cleanup()
    finally:
        await store.close()
    log.info("stopped")
    return 0


def _permanent_write_error(exc: Exception) -> bool:
    return programming_error(exc) or isinstance(exc, (IntegrityError, DataError))


def _now_utc(clock: SystemClock) -> datetime:
    return datetime.fromtimestamp(clock.now(), UTC)
