"""`callcenter simulate`: a working day through the real ACD, next to Erlang C.

`add_commands` hangs the command on the main parser and `run` executes it, so
`callcenter.cli` needs one line for each. It needs no settings file. Options are read
here rather than by argparse types, so a bad value prints one line naming the option
and exits 2.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import replace
from pathlib import Path

from callcenter.acd.model import Strategy
from callcenter.simulator.engine import compare, simulate
from callcenter.simulator.model import DayPlan, Distribution, HandleTime, PlanError, StaffPlan
from callcenter.simulator.model import default_queue as _default_queue
from callcenter.simulator.profile import (
    DEFAULT_PROFILE,
    ArrivalProfile,
    ProfileError,
    clock_label,
    load_series,
)
from callcenter.simulator.report import (
    DayReport,
    comparison_lines,
    save_csv,
    text_lines,
    to_json,
)

EXIT_OK = 0
EXIT_USAGE = 2
COMMAND = "simulate"
#: DayPlan parameter -> the option that sets it.
_OPTION_OF = {
    "calls": "--calls",
    "aht": "--aht",
    "aht_cv": "--aht-cv",
    "patience": "--patience",
    "staff": "--staff",
    "answer_delay": "--answer-delay",
    "tick": "--tick",
    "seed": "--seed",
    "wrap_up": "--wrap-up",
    "answer_within": "--answer-within",
    "short_abandon": "--short-abandon",
    "ring_timeout": "--ring-timeout",
    "target": "--target",
    "callback_after": "--callback-after",
    "callback_answer_rate": "--callback-answer-rate",
    "callback_dial": "--callback-dial",
}


class UsageError(Exception):
    def __init__(self, option: str, reason: str) -> None:
        super().__init__(f"{option}: {reason}")
        self.option = option
        self.reason = reason


def add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `simulate` to the `callcenter` command."""
    queue = _default_queue()
    sim = subparsers.add_parser(
        COMMAND,
        help="run a working day through the real ACD (discrete-event simulation)",
        description="Simulate a day of calls through the ACD on a virtual clock and report "
        "each 15-minute interval next to Erlang C. See docs/simulator.md.",
    )
    day = sim.add_argument_group("the day")
    day.add_argument("--calls", default="3000", help="expected calls in the day (default 3000)")
    day.add_argument(
        "--profile",
        metavar="FILE",
        help="interval weights, CSV (HH:MM,weight) or YAML (default: a service-desk curve "
        f"over {DEFAULT_PROFILE.describe()}, peaks 09:00-11:00 and 14:00-15:00)",
    )
    day.add_argument("--aht", default="360", help="mean talk time in seconds (default 360)")
    day.add_argument(
        "--aht-cv", default="0.8", help="coefficient of variation of talk time (default 0.8)"
    )
    day.add_argument(
        "--handle-time",
        default=Distribution.LOGNORMAL.value,
        help="talk time distribution: lognormal or exponential (default lognormal)",
    )
    day.add_argument(
        "--patience",
        default="180",
        help="mean caller patience in seconds (exponential); 'inf' never abandons (default 180)",
    )
    day.add_argument("--seed", default="1", help="random seed (default 1)")

    desk = sim.add_argument_group("the desk")
    desk.add_argument(
        "--staff",
        default="erlang",
        help="agents: a number all day, a CSV/YAML file of per-interval counts, or 'erlang' "
        "(per interval, Erlang C's count for its expected calls; default)",
    )
    desk.add_argument(
        "--strategy",
        default=queue.strategy.value,
        help=f"routing strategy of the queue (default {queue.strategy.value}); one of: "
        + ", ".join(s.value for s in Strategy),
    )
    desk.add_argument(
        "--answer-delay",
        default="2",
        help="seconds an offered agent's phone rings before the answer (default 2)",
    )
    desk.add_argument(
        "--wrap-up", default=f"{queue.wrap_up_seconds:g}", help="wrap-up seconds (default 0)"
    )
    desk.add_argument(
        "--answer-within",
        default=f"{queue.service_level_seconds:g}",
        help="service-level threshold in seconds (default 20)",
    )
    desk.add_argument(
        "--target",
        default=f"{queue.service_level_target:g}",
        help="service-level target, the share within the threshold (default 0.8)",
    )
    desk.add_argument(
        "--short-abandon",
        default=f"{queue.short_abandon_seconds:g}",
        help="abandons sooner than this do not count against the service level (default 5)",
    )
    desk.add_argument(
        "--ring-timeout",
        default=f"{queue.ring_timeout_seconds:g}",
        help="seconds before an unanswered offer fails (default 15)",
    )
    desk.add_argument(
        "--tick",
        help="call the ACD's tick() every so many seconds (default: exactly when one is due)",
    )

    desk.add_argument(
        "--callback-after",
        help="a caller still holding after so many seconds asks for a callback instead "
        "(default: off)",
    )
    desk.add_argument(
        "--callback-answer-rate",
        default="0.8",
        help="share of callback attempts the callee answers (default 0.8)",
    )
    desk.add_argument(
        "--callback-dial",
        default="10",
        help="seconds from dialling a callback to the callee's answer or giving up (default 10)",
    )

    out = sim.add_argument_group("output")
    out.add_argument("--json", action="store_true", help="print one JSON object")
    out.add_argument("--csv", metavar="FILE", help="also write the interval rows to a CSV file")
    out.add_argument(
        "--compare-strategy",
        metavar="A,B",
        help="run the day once per strategy, on the same callers, side by side",
    )
    out.add_argument(
        "--compare-agents",
        metavar="N,M",
        help="run the day once per flat agent count, on the same callers, side by side",
    )
    out.add_argument(
        "--compare-callback",
        metavar="OFF,60,30",
        help="run the day once per callback-after setting (OFF: no callbacks), side by side",
    )


def run(args: argparse.Namespace) -> int:
    """Execute a parsed `simulate` command; the exit code for the process."""
    try:
        return _run(args)
    except UsageError as exc:
        return _usage_error(exc.option, exc.reason)
    except PlanError as exc:
        return _usage_error(_OPTION_OF.get(exc.parameter, "--" + exc.parameter), exc.reason)


def _run(args: argparse.Namespace) -> int:
    given = [
        option
        for option, value in (
            ("--compare-strategy", args.compare_strategy),
            ("--compare-agents", args.compare_agents),
            ("--compare-callback", args.compare_callback),
        )
        if value
    ]
    if len(given) > 1:
        raise UsageError(given[1], f"cannot be combined with {given[0]}")
    plan = build_plan(args)
    csv_path = Path(args.csv) if args.csv else None
    started = time.perf_counter()
    if given:
        variants = _variants(args, plan)
        comparison = compare(variants)
        reports = list(comparison.variants)
        text = to_json(comparison.view()) if args.json else "\n".join(comparison_lines(comparison))
    else:
        report = simulate(plan)
        reports = [("day", report)]
        text = to_json(report.view()) if args.json else "\n".join(text_lines(report))
    elapsed = time.perf_counter() - started
    if csv_path is not None:
        try:
            save_csv(csv_path, reports)
        except OSError as exc:
            raise UsageError("--csv", f"cannot write {csv_path}: {exc.strerror or exc}") from None
    print(text)
    # With --json stdout is one JSON object: the speed goes to stderr.
    print(speed_line(reports, elapsed), file=sys.stderr if args.json else sys.stdout)
    return EXIT_OK


def speed_line(reports: list[tuple[str, DayReport]], seconds: float) -> str:
    calls = sum(report.day.offered for _, report in reports)
    runs = f" in {len(reports)} runs" if len(reports) > 1 else ""
    rate = calls / seconds if seconds > 0 else math.inf
    return f"{calls} calls simulated{runs} in {seconds:.1f} s ({rate:.0f} calls/s)"


def build_plan(args: argparse.Namespace) -> DayPlan:
    """The DayPlan the options describe; UsageError or PlanError for a bad one."""
    profile = DEFAULT_PROFILE
    if args.profile:
        try:
            profile = ArrivalProfile.from_mapping(load_series(Path(args.profile)))
        except ProfileError as exc:
            raise UsageError("--profile", str(exc)) from None
    kind = args.handle_time.strip().lower()
    if kind not in {d.value for d in Distribution}:
        raise UsageError("--handle-time", "must be lognormal or exponential")
    patience_text = args.patience.strip().lower()
    patience = None if patience_text in ("inf", "none") else _number("--patience", args.patience)
    queue = replace(
        _default_queue(),
        strategy=_strategy("--strategy", args.strategy),
        wrap_up_seconds=_number("--wrap-up", args.wrap_up),
        service_level_seconds=_number("--answer-within", args.answer_within),
        service_level_target=_number("--target", args.target),
        short_abandon_seconds=_number("--short-abandon", args.short_abandon),
        ring_timeout_seconds=_number("--ring-timeout", args.ring_timeout),
    )
    return DayPlan(
        calls=_number("--calls", args.calls),
        profile=profile,
        handle_time=HandleTime(
            mean_seconds=_number("--aht", args.aht),
            cv=_number("--aht-cv", args.aht_cv),
            kind=Distribution(kind),
        ),
        patience_seconds=patience,
        staffing=_staffing(args.staff, profile),
        answer_delay_seconds=_number("--answer-delay", args.answer_delay),
        queue=queue,
        seed=_whole("--seed", args.seed, minimum=None),
        tick_seconds=None if args.tick is None else _number("--tick", args.tick),
        callback_after_seconds=_callback_after("--callback-after", args.callback_after),
        callback_answer_rate=_number("--callback-answer-rate", args.callback_answer_rate),
        callback_dial_seconds=_number("--callback-dial", args.callback_dial),
    )


def _callback_after(option: str, text: str | None) -> float | None:
    if text is None or text.strip().lower() in ("off", "none"):
        return None
    return _number(option, text)


def _variants(args: argparse.Namespace, plan: DayPlan) -> list[tuple[str, DayPlan]]:
    if args.compare_strategy:
        if len(Strategy) < 2:
            raise UsageError(
                "--compare-strategy", "this ACD has one strategy: use --compare-agents"
            )
        names = _list("--compare-strategy", args.compare_strategy)
        strategies = [_strategy("--compare-strategy", name) for name in names]
        return [(s.value, replace(plan, queue=replace(plan.queue, strategy=s))) for s in strategies]
    if args.compare_callback:
        settings = [
            _callback_after("--compare-callback", text)
            for text in _list("--compare-callback", args.compare_callback)
        ]
        if len(set(settings)) < len(settings):
            raise UsageError("--compare-callback", "a value is given twice")
        return [
            (
                "no callback" if after is None else f"callback {after:g} s",
                replace(plan, callback_after_seconds=after),
            )
            for after in settings
        ]
    counts = [
        _whole("--compare-agents", text, minimum=0)
        for text in _list("--compare-agents", args.compare_agents)
    ]
    return [(f"{n} agents", replace(plan, staffing=n)) for n in counts]


def _staffing(text: str, profile: ArrivalProfile) -> StaffPlan:
    value = text.strip()
    if value.lower() == "erlang":
        return "erlang"
    if value.isdigit():
        return int(value)
    path = Path(value)
    if not path.exists():
        raise UsageError("--staff", f"{value!r} is not a number, 'erlang' or an existing file")
    try:
        series = load_series(path)
    except ProfileError as exc:
        raise UsageError("--staff", str(exc)) from None
    counts: list[int] = []
    for start in profile.starts():
        if start not in series:
            raise UsageError("--staff", f"no agent count for {clock_label(start)} in {path}")
        count = series.pop(start)
        if count != int(count):
            raise UsageError("--staff", f"{clock_label(start)}: {count:g} is not a whole number")
        counts.append(int(count))
    if series:
        extra = ", ".join(clock_label(m) for m in sorted(series))
        raise UsageError("--staff", f"{extra} outside the arrival profile {profile.describe()}")
    return tuple(counts)


def _strategy(option: str, text: str) -> Strategy:
    # The members are read at run time: the ACD may offer more strategies than this file knows.
    name = text.strip().lower().replace("-", "_")
    for strategy in Strategy:
        if strategy.value == name:
            return strategy
    known = ", ".join(s.value for s in Strategy)
    raise UsageError(option, f"unknown strategy {text.strip()!r} (known: {known})")


def _list(option: str, text: str) -> list[str]:
    items = [item.strip() for item in text.split(",") if item.strip()]
    if len(items) < 2:
        raise UsageError(option, "give at least two values separated by commas")
    if len(set(items)) < len(items):
        raise UsageError(option, "a value is given twice")
    return items


def _number(option: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise UsageError(option, f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise UsageError(option, "must be a finite number")
    return value


def _whole(option: str, text: str, minimum: int | None) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise UsageError(option, f"{text.strip()!r} is not a whole number") from None
    if minimum is not None and value < minimum:
        raise UsageError(option, f"must be at least {minimum}")
    return value


def _usage_error(option: str, reason: str) -> int:
    print(f"callcenter {COMMAND}: {option}: {reason}", file=sys.stderr)
    return EXIT_USAGE
