"""`callcenter staffing erlang|plan`: size the desk from the command line.

`add_commands` hangs the commands on the main parser and `run` executes them, so
`callcenter.cli` needs one line for each. Neither needs the settings file: managers
run these on their own machines. Bad values print one line naming the option, exit 2.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from callcenter.planning.erlang import (
    InvalidInput,
    Requirement,
    StaffingLevel,
    Workload,
    levels,
    required_agents,
    requirement_view,
    table_around,
)
from callcenter.planning.sizing import Client, DeskPlan, PhoneService, plan_desk, plan_view

EXIT_OK = 0
EXIT_USAGE = 2
#: Domain parameter names whose option is spelled differently; the rest are `--a-b` for a_b.
_OPTION_OF = {"aht_seconds": "--aht", "answer_within_seconds": "--answer-within"}


def add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `staffing erlang` and `staffing plan` to the `callcenter` command."""
    staffing = subparsers.add_parser(
        "staffing", help="size the desk: Erlang C and the source's rules of thumb"
    )
    actions = staffing.add_subparsers(dest="action", required=True)

    erlang = actions.add_parser(
        "erlang",
        help="agents needed to answer a share of calls within a threshold (Erlang C)",
        description="Smallest agent count meeting the target, with a table around it.",
    )
    erlang.add_argument("--calls", type=float, required=True, help="calls offered per interval")
    erlang.add_argument(
        "--interval-minutes", type=float, required=True, help="length of the interval"
    )
    _phone_options(erlang, defaults=False)
    erlang.add_argument(
        "--shrinkage",
        type=float,
        default=0.0,
        help="share of paid time off the phones; scheduled = ceil(agents / (1 - s)) (default 0)",
    )
    erlang.add_argument("--json", action="store_true", help="print one JSON object")

    plan = actions.add_parser(
        "plan",
        help="a client's desk: phone agents (rule of thumb and Erlang C), engineers",
        description="Rules of thumb of the source next to Erlang C, for one client.",
    )
    plan.add_argument("--pcs", type=int, required=True, help="client PCs supported")
    plan.add_argument("--printers", type=int, required=True, help="printers supported")
    plan.add_argument(
        "--peripherals", type=int, default=0, help="other peripherals supported (default 0)"
    )
    plan.add_argument(
        "--working-days", type=float, default=21, help="working days a month (default 21)"
    )
    plan.add_argument(
        "--service-hours",
        type=float,
        default=9,
        help="service hours a working day; calls are spread evenly over them (default 9)",
    )
    plan.add_argument(
        "--pc-interval-months",
        type=float,
        default=6,
        help="preventive maintenance of each PC, every N months (source: 3 to 6; default 6)",
    )
    plan.add_argument(
        "--peripheral-interval-months",
        type=float,
        default=12,
        help="preventive maintenance of each peripheral (source: 6 to 12; default 12)",
    )
    _phone_options(plan, defaults=True)
    plan.add_argument(
        "--shrinkage",
        type=float,
        default=0.3,
        help="share of paid time agents are off the phones (default 0.3)",
    )
    plan.add_argument("--json", action="store_true", help="print one JSON object")
    plan.add_argument(
        "--plot", type=Path, metavar="FILE.png", help="draw service level against agents"
    )


def _phone_options(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    """Options both commands share; `plan` defaults them to the source's SLA."""
    service = PhoneService()

    def option(flag: str, default: float, help_text: str) -> None:
        if defaults:
            parser.add_argument(
                flag, type=float, default=default, help=f"{help_text} (default {default:g})"
            )
        else:
            parser.add_argument(flag, type=float, required=True, help=help_text)

    option("--aht", service.aht_seconds, "average handle time in seconds")
    option("--answer-within", service.answer_within_seconds, "answer-time threshold in seconds")
    option("--target", service.target, "share of calls to answer within it, e.g. 0.8")
    parser.add_argument(
        "--max-occupancy",
        type=float,
        help="busiest an agent may be kept, e.g. 0.85 (default: no limit)",
    )


def run(args: argparse.Namespace) -> int:
    """Execute a parsed `staffing` command; the exit code for the process."""
    try:
        if args.action == "erlang":
            return _erlang(args)
        if args.action == "plan":
            return _plan(args)
    except InvalidInput as exc:
        return _usage_error(args, _option(exc.parameter), exc.reason)
    raise AssertionError(args.action)


def _erlang(args: argparse.Namespace) -> int:
    requirement = required_agents(
        Workload(
            calls=args.calls,
            interval_minutes=args.interval_minutes,
            aht_seconds=args.aht,
            answer_within_seconds=args.answer_within,
            target=args.target,
            shrinkage=args.shrinkage,
            max_occupancy=args.max_occupancy,
        )
    )
    if args.json:
        _print_json(requirement_view(requirement))
    else:
        print("\n".join(erlang_lines(requirement)))
    return EXIT_OK


def _plan(args: argparse.Namespace) -> int:
    plot: Path | None = args.plot
    if plot is not None and plot.suffix.lower() != ".png":
        return _usage_error(args, "--plot", "must name a .png file")
    plan = plan_desk(
        Client(
            pcs=args.pcs,
            printers=args.printers,
            peripherals=args.peripherals,
            working_days=args.working_days,
            service_hours=args.service_hours,
            pc_interval_months=args.pc_interval_months,
            peripheral_interval_months=args.peripheral_interval_months,
        ),
        PhoneService(
            aht_seconds=args.aht,
            answer_within_seconds=args.answer_within,
            target=args.target,
            shrinkage=args.shrinkage,
            max_occupancy=args.max_occupancy,
        ),
    )
    # Plot before printing: a failed plot leaves no half-done output behind.
    if plot is not None:
        try:
            plot_service_level(plan.phones, plot)
        except ImportError:
            return _usage_error(args, "--plot", "needs matplotlib (pip install matplotlib)")
        except OSError as exc:
            return _usage_error(args, "--plot", f"cannot write {plot}: {exc.strerror or exc}")
    if args.json:
        _print_json(plan_view(plan))
    else:
        print("\n".join(plan_lines(plan)))
        if plot is not None:
            print(f"\nService level plot written to {plot}")
    return EXIT_OK


def erlang_lines(requirement: Requirement) -> list[str]:
    w, level = requirement.workload, requirement.level
    cap = ""
    if requirement.limited_by == "max_occupancy" and w.max_occupancy is not None:
        cap = f", set by the {w.max_occupancy:.0%} occupancy cap"
    return [
        f"{w.calls:g} calls in {w.interval_minutes:g} min, AHT {w.aht_seconds:g} s: "
        f"{w.traffic_erlangs:.2f} Erlangs",
        f"Target: {w.target:.0%} answered within {w.answer_within_seconds:g} s",
        "",
        f"Agents needed: {level.agents} ({_summary(level)}{cap})",
        f"Scheduled after {w.shrinkage:.0%} shrinkage: {requirement.scheduled_agents}",
        "",
        *_level_table(table_around(requirement), level.agents),
    ]


def plan_lines(plan: DeskPlan) -> list[str]:
    c, s, r = plan.client, plan.service, plan.rules
    phones = plan.phones
    rows = [
        (
            "phone agents, rule of thumb",
            f"{plan.phone_agents_rule_of_thumb.fte:.2f}",
            plan.phone_agents_rule_of_thumb.people,
            f"{plan.requests_per_day:.1f} calls a day / {r.calls_per_phone_agent_per_day:g} "
            "per agent",
        ),
        (
            "phone agents, Erlang C",
            "",
            phones.agents,
            f"on the phones for {phones.workload.traffic_erlangs:.2f} Erlangs: "
            f"{_summary(phones.level)}",
        ),
        (
            "phone agents, Erlang C",
            "",
            phones.scheduled_agents,
            f"scheduled, after {s.shrinkage:.0%} shrinkage",
        ),
        (
            "on-site engineers",
            f"{plan.on_site_engineers.fte:.2f}",
            plan.on_site_engineers.people,
            f"{plan.on_site_requests_per_day:.1f} on-site requests a day / "
            f"{r.on_site_requests_per_engineer_per_day:g} per engineer",
        ),
        (
            "maintenance engineers",
            f"{plan.maintenance_engineers.fte:.2f}",
            plan.maintenance_engineers.people,
            f"{plan.pcs_serviced_per_day:.1f} PCs a day / "
            f"{r.pcs_serviced_per_engineer_per_day:g} + {plan.peripherals_serviced_per_day:.1f} "
            f"peripherals a day / {r.peripherals_serviced_per_engineer_per_day:g}",
        ),
    ]
    width = max(len(row[0]) for row in rows)
    return [
        f"Client: {c.pcs} PCs, {c.printers} printers, {c.peripherals} other peripherals; "
        f"{c.working_days:g} working days a month, {c.service_hours:g} service hours a day",
        f"Service requests: {plan.requests_per_month:.1f} a month, "
        f"{plan.requests_per_day:.1f} a working day "
        f"({plan.solved_on_phone_per_day:.1f} solved on the phone, "
        f"{plan.on_site_requests_per_day:.1f} needing on-site work)",
        f"Phones: {s.target:.0%} answered within {s.answer_within_seconds:g} s, "
        f"AHT {s.aht_seconds:g} s",
        "",
        f"{'staff':<{width}}  {'FTE':>7}  {'people':>6}  basis",
        *(f"{name:<{width}}  {fte:>7}  {people:>6}  {basis}" for name, fte, people, basis in rows),
        "",
        "Notes:",
        *(f"- {note}" for note in plan.notes),
    ]


def plot_service_level(requirement: Requirement, path: Path) -> None:
    """Service level against agents, with the target line, as a PNG (Agg, no display)."""
    # Imported here: only --plot needs matplotlib, and the canvas is Agg whatever the
    # environment's default backend, with no pyplot global state.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    w = requirement.workload
    first = max(1, math.floor(w.traffic_erlangs) - 1)
    rows = levels(w, first, requirement.agents + 5)
    figure = Figure(figsize=(7, 4.5))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.plot([r.agents for r in rows], [r.service_level for r in rows], marker="o")
    axes.axhline(w.target, color="tab:red", linestyle="--", label=f"target {w.target:.0%}")
    axes.axvline(
        requirement.agents,
        color="tab:green",
        linestyle=":",
        label=f"needed: {requirement.agents} agents",
    )
    axes.set_xlabel("agents on the phones")
    axes.set_ylabel(f"share answered within {w.answer_within_seconds:g} s")
    axes.set_ylim(0, 1.02)
    axes.set_title(f"Erlang C, {w.traffic_erlangs:.2f} Erlangs, AHT {w.aht_seconds:g} s")
    axes.grid(alpha=0.3)
    axes.legend(loc="lower right")
    figure.savefig(path, format="png", dpi=100)


def _level_table(rows: list[StaffingLevel], chosen: int) -> list[str]:
    lines = [f"{'agents':>6}  {'service level':>13}  {'ASA (s)':>8}  {'occupancy':>9}  P(wait)"]
    for row in rows:
        asa = "-" if row.asa_seconds is None else f"{row.asa_seconds:.1f}"
        mark = "  <- needed" if row.agents == chosen else ""
        lines.append(
            f"{row.agents:>6}  {row.service_level:>13.1%}  {asa:>8}  {row.occupancy:>9.1%}  "
            f"{row.wait_probability:>7.1%}{mark}"
        )
    return lines


def _summary(level: StaffingLevel) -> str:
    asa = "unbounded" if level.asa_seconds is None else f"{level.asa_seconds:.1f} s"
    return (
        f"service level {level.service_level:.1%}, ASA {asa}, "
        f"occupancy {level.occupancy:.1%}, P(wait) {level.wait_probability:.1%}"
    )


def _print_json(view: dict[str, Any]) -> None:
    # allow_nan=False: a NaN or infinity would be invalid JSON; it is a bug, not output.
    print(json.dumps(view, indent=2, allow_nan=False))


def _option(parameter: str) -> str:
    return _OPTION_OF.get(parameter, "--" + parameter.replace("_", "-"))


def _usage_error(args: argparse.Namespace, option: str, reason: str) -> int:
    print(f"callcenter staffing {args.action}: {option}: {reason}", file=sys.stderr)
    return EXIT_USAGE
