"""`callcenter ivr check|walk`: validate a flow file, follow a caller through it.

`add_commands` hangs the commands on the main parser and `run` executes them; neither
needs the settings file. A bad flow file prints one line naming the file and the node
and exits 2, as do bad option values.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from callcenter.clock import ManualClock
from callcenter.ivr.engine import IvrSession, describe
from callcenter.ivr.flow import (
    CallerProfile,
    CancelTimer,
    IvrAction,
    Play,
    StartTimer,
    StopPlayback,
)
from callcenter.ivr.flowfile import Flow, FlowSet, IvrConfigError, load_flows

EXIT_OK = 0
EXIT_USAGE = 2
DEFAULT_FILE = Path("config/ivr.yaml")
#: A `--digits` character that lets the running timer expire instead of pressing a key.
WAIT = "."
#: Events a walk feeds before it calls the flow stuck.
MAX_EVENTS = 1000


class _UsageError(Exception):
    pass


def add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `ivr check` and `ivr walk` to the `callcenter` command."""
    ivr = subparsers.add_parser("ivr", help="IVR flows: validate a flow file, walk a call")
    actions = ivr.add_subparsers(dest="action", required=True)

    check = actions.add_parser(
        "check",
        help="validate a flow file: nodes, prompts, timers, hours (exit 2 on a problem)",
        description="Validate a flow file as the service does at start-up.",
    )
    _file_options(check)

    walk = actions.add_parser(
        "walk",
        help="print the path a caller takes through a flow for given key presses",
        description=(
            "Follow one call through a flow: prompts heard in full, then each key of "
            f"--digits; '{WAIT}' lets a timer run out; when the keys run out, timers expire."
        ),
    )
    _file_options(walk)
    walk.add_argument(
        "--digits", default="", help=f"keys pressed, e.g. 2 or 12345# ('{WAIT}': wait)"
    )
    walk.add_argument(
        "--caller",
        choices=("unknown", "known", "vip"),
        default="unknown",
        help="who calls (default unknown; vip is a known caller)",
    )
    walk.add_argument(
        "--open-incident", metavar="NUMBER", help="the caller's open incident (a known caller)"
    )
    walk.add_argument(
        "--at",
        metavar="YYYY-MM-DDTHH:MM",
        help="when the call comes in, in the flow's time zone unless an offset is given "
        "(default: now)",
    )
    walk.add_argument("--flow", help="the flow to walk (default: the file's default flow)")
    walk.add_argument(
        "--language", help="pick the flow for a caller of this language (e.g. zh) instead"
    )
    walk.add_argument(
        "--barge-in", action="store_true", help="press the keys during prompts, not after"
    )


def _file_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "file", nargs="?", type=Path, default=DEFAULT_FILE, help=f"(default {DEFAULT_FILE})"
    )
    parser.add_argument(
        "--prompts", type=Path, help="prompt catalogue (default: the file's 'prompts' key)"
    )


def run(args: argparse.Namespace) -> int:
    """Execute a parsed `ivr` command; the exit code for the process."""
    try:
        flows = load_flows(args.file, args.prompts)
        if args.action == "check":
            return _check(args.file, flows)
        if args.action == "walk":
            return _walk(args, flows)
    except (IvrConfigError, _UsageError) as exc:
        print(f"callcenter ivr {args.action}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    raise AssertionError(args.action)


def _check(path: Path, flows: FlowSet) -> int:
    nodes = sum(len(flow.nodes) for flow in flows.flows.values())
    names = ", ".join(f"{f.name} ({f.language})" for f in flows.flows.values())
    print(f"{path}: OK, {len(flows.flows)} flows, {nodes} nodes: {names}")
    return EXIT_OK


def _walk(args: argparse.Namespace, flows: FlowSet) -> int:
    try:
        flow = flows.for_language(args.language) if args.language else flows.get(args.flow)
    except KeyError as exc:
        raise _UsageError(f"--flow: {exc.args[0]}") from None
    bad = sorted(set(args.digits) - set("0123456789*#" + WAIT))
    if bad:
        raise _UsageError(f"--digits: {bad[0]!r} is not a key 0-9, * or # (or '{WAIT}')")
    caller = CallerProfile(
        known=args.caller != "unknown" or args.open_incident is not None,
        vip=args.caller == "vip",
        open_incident=args.open_incident,
        language=flow.language,
    )
    at = _instant(args.at, flow)
    session, unused = walk(flow, caller, at, args.digits, barge_in=args.barge_in)
    when = dt.datetime.fromtimestamp(at, flow.hours.zone)
    who = "unknown caller" if not caller.known else ("VIP caller" if caller.vip else "known caller")
    if caller.open_incident:
        who += f" with open incident {caller.open_incident}"
    print(f"flow {flow.name} ({flow.language}) of {args.file}: {who}, {when:%a %Y-%m-%d %H:%M %Z}")
    print(format_trace(session))
    print(f"=> {describe(session.result) if session.result else 'no result'}")
    if unused:
        print(f"keys not used: {unused}")
    return EXIT_OK


def _instant(text: str | None, flow: Flow) -> float:
    if text is None:
        return dt.datetime.now(dt.UTC).timestamp()
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise _UsageError(f"--at: {text!r} is not YYYY-MM-DDTHH:MM") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=flow.hours.zone)
    return when.timestamp()


def walk(
    flow: Flow, caller: CallerProfile, at: float, digits: str, *, barge_in: bool = False
) -> tuple[IvrSession, str]:
    """Drive a session as a caller would; the session (trace, result) and unused keys.

    Prompts play to their end unless `barge_in`; each key of `digits` is pressed when
    the flow waits for one, `WAIT` lets the running timer expire, and once the keys are
    used up every timer expires, so each walk ends.
    """
    clock = ManualClock(at)
    session = IvrSession(flow, caller, clock)
    keys = list(digits)
    playing: list[str] = []
    timers: dict[str, float] = {}

    def perform(actions: list[IvrAction]) -> None:
        for action in actions:
            if isinstance(action, Play):
                playing[:] = action.prompts
            elif isinstance(action, StopPlayback):
                playing.clear()
            elif isinstance(action, StartTimer):
                timers[action.timer_id] = action.seconds
            elif isinstance(action, CancelTimer):
                timers.pop(action.timer_id, None)

    perform(session.start())
    for _ in range(MAX_EVENTS):
        if session.finished:
            break
        if keys and keys[0] != WAIT and (not playing or barge_in):
            perform(session.digit(keys.pop(0)))
        elif playing:
            perform(session.prompt_finished(playing.pop(0)))
        elif timers:
            if keys:
                keys.pop(0)  # a WAIT
            timer_id, seconds = next(iter(timers.items()))
            del timers[timer_id]
            clock.advance(seconds)
            perform(session.timer_fired(timer_id))
        elif keys:
            keys.pop(0)  # a WAIT with nothing to wait for
        else:
            break
    return session, "".join(keys)


def format_trace(session: IvrSession) -> str:
    """The trace node by node: the node and its kind, then what happened there."""
    lines: list[str] = []
    current: str | None = None
    for node, note in session.trace:
        if node != current:
            kind = type(session.flow.nodes[node]).__name__.removesuffix("Node").lower()
            lines.append(f"{node} ({kind})")
            current = node
        lines.append(f"  {note}")
    return "\n".join(lines)
