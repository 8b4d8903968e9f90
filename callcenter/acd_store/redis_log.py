"""One ACD shared by several processes: a log of commands in a Redis Stream.

Every process keeps a whole copy of the ACD and applies the same log to it, in the
stream's order, each command at the instant Redis stamped it with (the entry id). The
ACD is deterministic, so the copies agree on every offer: an agent is offered one call
and a call one agent, across processes, because there is only one order of commands.
Reserving agents with a Lua script per offer was the alternative; it would have needed
a second implementation of routing (priorities, fairness across queues, skills relaxing)
in Lua, where this keeps one, the pure ACD the tests and the simulator run.

Keys, under `prefix`:

- `log`: the stream; an entry is the submitting process (`n`), its sequence number
  (`s`), the command (`c`, JSON of `callcenter.acd.commands`) and where browsers reach
  the submitting process (`u`, its `http.public_url`; a console on another process
  opens the audio of this process's calls there).
- `snapshot`: a hash with the ACD's state after the entry `id`, which process owns
  which call's SIP leg (`owners`) and the processes' public URLs (`urls`). A process
  joining loads it and then reads the log after `id`. Written every `snapshot_seconds`
  by the leader, which trims the log to the snapshot before it (a joiner that read the
  older one still finds its entries).
- `node:<id>`: a process's heartbeat, expiring after `lease_seconds`.
- `leader`: the process that ticks for all (ring-no-answer, wrap-up end, max wait) and
  ends the calls of processes whose heartbeat expired: their callers' legs died with
  them, so their agents must not stay reserved.

Redis restarted empty: every process reconnects (retrying with a growing pause) and keeps
its copy; new entries get later ids than any old one, so the readers go on from where
they were. The leader, finding no snapshot, publishes its own copy as the snapshot at
once, for processes that join later. A process is judged lost only after its leader has
held the lease for two leases: until then the peers' heartbeats may simply not have
been written again to the new Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import uuid
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from callcenter.acd.acd import Acd
from callcenter.acd.commands import Answered, Command, EndCalls, Enqueue, Tick, decode, encode
from callcenter.acd.errors import AcdError
from callcenter.acd.model import AcdCall, CallPhase
from callcenter.acd_store.store import AcdStoreUnavailable
from callcenter.clock import Clock

log = logging.getLogger(__name__)

#: Leases a new leader waits before judging peers lost: their heartbeats may not be back
#: in a Redis that restarted empty. One was too few on a loaded machine (a fresh-clone
#: run saw a live peer's call ended 0.6 s after its heartbeat returned).
LOST_AFTER_LEASES = 2
_BATCH = 500
_READ_BLOCK_MS = 1000
_RETRY_SECONDS = 0.5
_RETRY_MAX_SECONDS = 5.0

#: KEYS[1] lease key; ARGV[1] node id, ARGV[2] lease in ms. 2 when the node took the
#: lease now, 1 when it renewed it, 0 when another holds it.
_LEASE = """
local holder = redis.call('GET', KEYS[1])
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 2
end
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""

#: KEYS[1] snapshot hash, KEYS[2] log; ARGV[1] entry id, ARGV[2] state, ARGV[3] owners,
#: ARGV[4] the processes' public URLs.
#: Only a newer snapshot replaces the stored one; the log keeps the entries after the
#: snapshot it replaces.
_SNAPSHOT = """
local function newer(a, b)
  local am, as = string.match(a, '(%d+)-(%d+)')
  local bm, bs = string.match(b, '(%d+)-(%d+)')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am > bm or (am == bm and as > bs)
end
local current = redis.call('HGET', KEYS[1], 'id')
if current and not newer(ARGV[1], current) then
  return 0
end
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'state', ARGV[2], 'owners', ARGV[3], 'urls', ARGV[4])
if current then
  redis.call('XTRIM', KEYS[2], 'MINID', current)
end
return 1
"""


#: KEYS[1] snapshot hash, KEYS[2] log; ARGV[1] state. The first state of a new cluster:
#: only while there is neither a snapshot nor a log.
_SEED = """
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('XLEN', KEYS[2]) > 0 then
  return 0
end
redis.call('HSET', KEYS[1], 'id', '0-0', 'state', ARGV[1], 'owners', '{}')
return 1
"""


class LogClock:
    """The ACD's clock in a cluster: while an entry is applied, the instant Redis
    stamped it with (the same on every copy); between entries, this process's clock,
    never earlier than the last entry."""

    def __init__(self, base: Clock) -> None:
        self._base = base
        self._pinned: float | None = None
        self._last = 0.0

    def now(self) -> float:
        if self._pinned is not None:
            return self._pinned
        return max(self._base.now(), self._last)

    def pin(self, at: float) -> None:
        self._last = max(self._last, at)
        self._pinned = self._last

    def unpin(self) -> None:
        self._pinned = None


def _report_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.critical(
            "%s stopped: the ACD copy no longer follows", task.get_name(), exc_info=task.exception()
        )


def _has_legs(call: AcdCall) -> bool:
    """A callback waiting in line has no SIP leg to lose; one being dialled or talked on
    has its process's agent and callee legs (a hang-up of it is a failed dial)."""
    return call.callback is None or call.dialing or call.phase is CallPhase.CONNECTED


class _Retry:
    """A pause growing from `_RETRY_SECONDS` to `_RETRY_MAX_SECONDS` while Redis fails,
    with one warning when it starts failing and one line when it answers again, not a
    line per try."""

    def __init__(self, what: str, max_pause: float = _RETRY_MAX_SECONDS) -> None:
        self._what = what
        self._max_pause = max_pause
        self._pause = 0.0
        self._since: float | None = None

    async def failed(self, exc: Exception) -> None:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            # redis-py can turn a cancellation inside a command into a connection error;
            # retrying it would keep a closing store's loop alive for ever (a fresh-clone
            # run hung 120 s in teardown with a closed node still leading).
            raise asyncio.CancelledError from exc
        loop = asyncio.get_running_loop()
        if self._since is None:
            self._since = loop.time()
            log.warning("%s failed (%s); retrying", self._what, exc)
        self._pause = min(max(self._pause * 2, _RETRY_SECONDS), self._max_pause)
        await asyncio.sleep(self._pause)

    def succeeded(self) -> None:
        if self._since is not None:
            down = asyncio.get_running_loop().time() - self._since
            log.warning("%s works again after %.1f s", self._what, down)
        self._pause, self._since = 0.0, None


def new_node_id() -> str:
    """Unique per process run: a restarted process is a new node, so the calls of its
    previous run are recognised as lost, not as its own."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def entry_time(entry_id: str) -> float:
    return int(entry_id.partition("-")[0]) / 1000.0


class RedisAcdStore:
    def __init__(
        self,
        acd: Acd,
        clock: LogClock,
        url: str,
        *,
        prefix: str = "callcenter:acd",
        lease_seconds: float = 5.0,
        snapshot_seconds: float = 30.0,
        node_id: str | None = None,
        public_url: str = "",
        max_outbox: int = 10_000,
    ) -> None:
        self._acd, self._clock, self._url = acd, clock, url
        self._prefix = prefix
        self._lease_ms = int(lease_seconds * 1000)
        self._snapshot_seconds = snapshot_seconds
        self._node_id = node_id or new_node_id()
        self._public_url = public_url
        #: Where browsers reach each process (from the `u` of its log entries).
        self._urls: dict[str, str] = {self._node_id: public_url} if public_url else {}
        self._redis: aioredis.Redis | None = None
        self._last_id = "0-0"
        self._seq = 0
        self._outbox: list[tuple[int, Command]] = []
        #: Changes waiting for Redis beyond this are refused (AcdStoreUnavailable): a long
        #: outage must not grow memory without end, nor replay stale changes much later.
        self._max_outbox = max_outbox
        self._withdrawn: set[int] = set()
        self._waiting: dict[int, asyncio.Future[None]] = {}
        self._wake = asyncio.Event()
        self._own = False
        self._leader = False
        #: When this process last took the lease (loop time): peers are judged lost only
        #: a lease after it, when every live one has written its heartbeat again.
        self._leader_since = 0.0
        #: Whether a snapshot of the shared ACD was seen or written: one missing after
        #: that means Redis lost its data.
        self._published = False
        self.reseeds = 0
        #: Which process holds each call's SIP leg (from the enqueue's entry).
        self._owners: dict[str, str] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._closing = False
        self._ending_lost = False
        self.applied = 0

    # ----- the AcdStore interface --------------------------------------------------

    @property
    def acd(self) -> Acd:
        return self._acd

    @property
    def node_id(self) -> str:
        return self._node_id

    @property
    def applying_own(self) -> bool:
        return self._own

    @property
    def ending_lost_calls(self) -> bool:
        return self._ending_lost

    @property
    def is_leader(self) -> bool:
        return self._leader

    def owner(self, call_id: str) -> str | None:
        """The process holding `call_id`'s SIP legs, as far as the log tells."""
        return self._owners.get(call_id)

    def public_urls(self) -> set[str]:
        """Where browsers reach the processes seen in the log (this one included)."""
        return set(self._urls.values())

    def public_url(self, call_id: str) -> str | None:
        """Where browsers reach the process holding `call_id`'s legs (its
        `http.public_url`); None when the log does not tell."""
        owner = self._owners.get(call_id)
        return self._urls.get(owner) if owner is not None else None

    @property
    def waiting_changes(self) -> int:
        """Commands submitted and not yet written to Redis."""
        return len(self._outbox)

    async def ping(self) -> None:
        """Raises if Redis does not answer (the readiness probe bounds the wait)."""
        assert self._redis is not None
        await self._redis.ping()

    def submit(self, command: Command) -> asyncio.Future[None]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if len(self._outbox) >= self._max_outbox:
            log.warning("ACD change refused: %d changes already wait for Redis", len(self._outbox))
            future.set_exception(
                AcdStoreUnavailable(f"redis: {len(self._outbox)} changes already wait for it")
            )
            return future
        self._seq += 1
        seq = self._seq
        self._outbox.append((seq, command))
        self._waiting[seq] = future
        # Given up on (cancelled) before it was written: it is not written at all.
        future.add_done_callback(lambda f: self._withdrawn.add(seq) if f.cancelled() else None)
        self._wake.set()
        return future

    def tick(self) -> None:
        if self._leader:
            self.submit(Tick())

    async def start(self) -> None:
        """Connect, load the snapshot, apply the log up to its end, then follow it."""
        self._redis = aioredis.from_url(self._url, decode_responses=True)
        await self._redis.ping()
        await self._beat()
        snapshot: Any = await self._redis.hgetall(self._key("snapshot"))
        if snapshot:
            self._acd.restore_state(json.loads(snapshot["state"]))
            self._owners = json.loads(snapshot.get("owners", "{}"))
            self._urls = {**json.loads(snapshot.get("urls", "{}")), **self._urls}
            self._last_id = snapshot["id"]
            self._published = True
        while True:
            start = "-" if self._last_id == "0-0" else f"({self._last_id}"
            entries: Any = await self._redis.xrange(self._key("log"), start, "+", count=5000)
            if not entries:
                break
            for entry_id, fields in entries:
                self._apply(entry_id, fields)
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._read(), name="acd-log-read"),
            loop.create_task(self._write(), name="acd-log-write"),
            loop.create_task(self._keep_alive(), name="acd-heartbeat"),
        ]
        for task in self._tasks:
            task.add_done_callback(_report_crash)
        log.info(
            "ACD shared through %s as node %s, %d log entries applied",
            self._prefix,
            self._node_id,
            self.applied,
        )

    async def close(self) -> None:
        """Write what was submitted (briefly), then leave: heartbeat and leadership go at
        once, so the peers take over without waiting for the lease."""
        for _ in range(20):
            if not self._outbox:
                break
            await asyncio.sleep(0.05)
        # The reader is not cancelled inside a blocking XREAD (redis-py may then never
        # give the connection back); it stops after the current one, within a second.
        self._closing = True
        reader, *others = self._tasks
        for task in others:
            task.cancel()
        await asyncio.wait(self._tasks, timeout=_READ_BLOCK_MS / 1000 + 1)
        reader.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for future in self._waiting.values():
            if not future.done():
                future.cancel()
        if self._redis is not None:
            with contextlib.suppress(RedisError, OSError):
                await self._redis.delete(self._key(f"node:{self._node_id}"))
                if self._leader:
                    await self._redis.delete(self._key("leader"))
            await self._redis.aclose()
            # A reader cancelled inside XREAD (a slow box) may keep its connection out of
            # the pool: close that socket too rather than leave it to the collector.
            await self._redis.connection_pool.disconnect(inuse_connections=True)

    # ----- following the log -------------------------------------------------------

    def _key(self, name: str) -> str:
        return f"{self._prefix}:{name}"

    def _apply(self, entry_id: str, fields: dict[str, str]) -> None:
        node = fields.get("n", "")
        own = node == self._node_id
        if fields.get("u"):
            self._urls[node] = fields["u"]
        future = self._waiting.pop(int(fields.get("s", 0)), None) if own else None
        error: Exception | None = None
        try:
            command = decode(fields.get("c", ""))
        except ValueError as exc:
            log.error("ACD log entry %s skipped: %s", entry_id, exc)
            command, error = None, exc
        if command is not None:
            self._clock.pin(entry_time(entry_id))
            self._own = own
            self._ending_lost = isinstance(command, EndCalls)
            # The owner is known while the command applies: its events (an offer made
            # at once, a callback connected) already name where the call's legs are.
            claimed = self._claimed(command)
            before = self._owners.get(claimed) if claimed is not None else None
            if claimed is not None:
                self._owners[claimed] = node
            try:
                command.apply(self._acd)
            except AcdError as exc:  # the ACD's refusal, the same on every copy
                error = exc
            except Exception as exc:  # a bug, but the same on every copy: follow the log
                log.exception("ACD log entry %s (%s) failed", entry_id, command.op)
                error = RuntimeError(f"{command.op} failed: {exc!r}")
            finally:
                self._own = self._ending_lost = False
                self._clock.unpin()
            if claimed is not None and error is not None:
                if before is None:
                    self._owners.pop(claimed, None)
                else:
                    self._owners[claimed] = before
        self._last_id = entry_id
        self.applied += 1
        if future is not None and not future.done():
            if error is None:
                future.set_result(None)
            else:
                future.set_exception(error)

    def _claimed(self, command: Command) -> str | None:
        """The call whose legs the entry's process holds from this command on: the one
        it enqueues, or the callback its agent's leg took (its process dials the callee)."""
        if isinstance(command, Enqueue):
            return command.call_id
        if not isinstance(command, Answered) or not self._acd.has_call(command.call_id):
            return None
        return command.call_id if self._acd.call(command.call_id).callback is not None else None

    async def _read(self) -> None:
        assert self._redis is not None
        retry = _Retry("reading the ACD log")
        while not self._closing:
            try:
                streams: Any = await self._redis.xread(
                    {self._key("log"): self._last_id}, count=1000, block=_READ_BLOCK_MS
                )
            except (RedisError, OSError) as exc:
                await retry.failed(exc)
                continue
            retry.succeeded()
            for _, entries in streams:
                for entry_id, fields in entries:
                    self._apply(entry_id, fields)

    async def _write(self) -> None:
        """Append submitted commands in submission order, many per round trip."""
        assert self._redis is not None
        retry = _Retry("writing the ACD log")
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._outbox:
                if self._withdrawn:
                    self._outbox = [(s, c) for s, c in self._outbox if s not in self._withdrawn]
                    for seq in self._withdrawn:
                        self._waiting.pop(seq, None)
                    self._withdrawn.clear()
                    if not self._outbox:
                        break
                batch = self._outbox[:_BATCH]
                pipe = self._redis.pipeline(transaction=False)
                for seq, command in batch:
                    fields = {"n": self._node_id, "s": str(seq), "c": encode(command)}
                    if self._public_url:
                        fields["u"] = self._public_url
                    pipe.xadd(self._key("log"), fields)  # type: ignore[arg-type]
                try:
                    await pipe.execute()
                except (RedisError, OSError) as exc:
                    # Retried in order; a batch that did land before the error lands
                    # twice, which the commands tolerate (a second enqueue or answer of
                    # the same call is refused, a second hang-up is a no-op).
                    await retry.failed(exc)
                    continue
                retry.succeeded()
                del self._outbox[: len(batch)]

    # ----- heartbeat, leadership, snapshots, lost processes ------------------------

    async def _beat(self) -> None:
        assert self._redis is not None
        await self._redis.set(self._key(f"node:{self._node_id}"), "1", px=self._lease_ms)

    async def _keep_alive(self) -> None:
        assert self._redis is not None
        lease = self._redis.register_script(_LEASE)
        snapshot = self._redis.register_script(_SNAPSHOT)
        loop = asyncio.get_running_loop()
        next_snapshot = loop.time() + self._snapshot_seconds
        # The heartbeat must be back within a lease of Redis answering again: a leader
        # judges peers lost one lease after it (re)took the lease, so this pause stays short.
        retry = _Retry("the ACD heartbeat", max_pause=self._lease_ms / 3000)
        while not self._closing:
            await asyncio.sleep(self._lease_ms / 3000)
            try:
                await self._beat()
                keys = [self._key("leader")]
                held = await lease(keys=keys, args=[self._node_id, self._lease_ms])
                retry.succeeded()
                if held == 2:
                    self._leader_since = loop.time()
                    log.info("node %s leads the shared ACD", self._node_id)
                self._leader = bool(held)
                if not self._leader:
                    continue
                if not await self._redis.exists(self._key("snapshot")):
                    await self._reseed(snapshot)
                    next_snapshot = loop.time() + self._snapshot_seconds
                if loop.time() - self._leader_since >= LOST_AFTER_LEASES * self._lease_ms / 1000:
                    await self._end_lost_calls()
                if loop.time() >= next_snapshot:
                    next_snapshot = loop.time() + self._snapshot_seconds
                    await self.save_snapshot(snapshot)
            except (RedisError, OSError) as exc:
                self._leader = False
                await retry.failed(exc)

    async def _reseed(self, script: Any) -> None:
        """No snapshot in Redis: publish this copy as one, so that a process joining now
        starts from the whole state and not from a log that no longer has its start."""
        lost = self._published
        if not await self.save_snapshot(script):
            return
        if lost:
            self.reseeds += 1
            log.warning(
                "the shared ACD vanished from Redis (restarted empty?): published this"
                " node's copy as of log entry %s",
                self._last_id,
            )
        self._published = True

    def _forget_ended_calls(self) -> None:
        self._owners = {c: n for c, n in self._owners.items() if self._acd.has_call(c)}

    async def _end_lost_calls(self) -> None:
        """Hang up the calls of processes whose heartbeat expired (their legs are gone)."""
        assert self._redis is not None
        self._forget_ended_calls()
        nodes = sorted(set(self._owners.values()) - {self._node_id})
        if not nodes:
            return
        beats = await self._redis.mget([self._key(f"node:{n}") for n in nodes])
        lost = {n for n, beat in zip(nodes, beats, strict=True) if beat is None}
        calls = tuple(
            sorted(c for c, n in self._owners.items() if n in lost and _has_legs(self._acd.call(c)))
        )
        if calls:
            log.warning("nodes %s lost: ending their %d calls", sorted(lost), len(calls))
            self.submit(EndCalls(calls))

    async def seed(self) -> bool:
        """Share this copy's state (restored from the database) as the cluster's first
        snapshot; False when the shared ACD is no longer empty (another process started
        it meanwhile), and this copy must not be used."""
        assert self._redis is not None
        state = json.dumps(self._acd.export_state(), separators=(",", ":"))
        keys = [self._key("snapshot"), self._key("log")]
        seeded = bool(await self._redis.register_script(_SEED)(keys=keys, args=[state]))
        self._published = self._published or seeded
        return seeded

    async def save_snapshot(self, script: Any = None) -> bool:
        """Store the state as of the last applied entry (taken between two entries)."""
        assert self._redis is not None
        if self._last_id == "0-0":
            return False
        script = script or self._redis.register_script(_SNAPSHOT)
        state, at = self._acd.export_state(), self._last_id
        self._forget_ended_calls()
        owners = self._owners
        urls = {n: u for n, u in self._urls.items() if n in set(owners.values())}
        keys = [self._key("snapshot"), self._key("log")]
        args = [at, json.dumps(state, separators=(",", ":")), json.dumps(owners), json.dumps(urls)]
        saved = bool(await script(keys=keys, args=args))
        self._published = self._published or saved
        return saved
