"""The `callcenter` command: serve, db upgrade, demo load, users, import, naming check,
report, prompts build.

Configuration problems print one line and exit 2; no traceback reaches the operator.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from callcenter.accounts import cli as users_cli
from callcenter.cmdb import import_cli, naming_cli
from callcenter.ivr import cli as ivr_cli
from callcenter.planning import cli as staffing_cli
from callcenter.redaction import redact
from callcenter.reports import cli as report_cli
from callcenter.settings import ConfigError, Settings, load_settings
from callcenter.simulator import cli as simulator_cli

EXIT_CONFIG = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="callcenter", description=__doc__)
    parser.add_argument(
        "--config",
        type=Path,
        help="settings file (default: $CALLCENTER_CONFIG or config/callcenter.yaml)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve", help="run the SIP bridge, ACD, API and metrics in one process"
    )
    serve.add_argument(
        "--insecure-demo",
        action="store_true",
        help="listen beyond loopback even with the demo's passwords or no token secret",
    )
    db = commands.add_parser("db", help="database schema").add_subparsers(
        dest="action", required=True
    )
    db.add_parser("upgrade", help="apply every migration (Alembic) up to the newest")
    demo = commands.add_parser("demo", help="demo data").add_subparsers(
        dest="action", required=True
    )
    demo.add_parser("load", help="load Demo Corp, its employees, devices and agents (idempotent)")
    users_cli.add_commands(commands)
    import_cli.add_commands(commands)
    naming_cli.add_commands(commands)
    report_cli.add_commands(commands)
    prompts = commands.add_parser("prompts", help="IVR prompts").add_subparsers(
        dest="action", required=True
    )
    prompts.add_parser("build", help="synthesise and convert the prompts of prompts.catalogue")
    commands.add_parser("config", help="validate the settings and print them (secrets hidden)")
    staffing_cli.add_commands(commands)
    simulator_cli.add_commands(commands)
    ivr_cli.add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "staffing":  # arithmetic only: needs no settings
        return staffing_cli.run(args)
    if args.command == "simulate":  # the ACD on a virtual clock: needs no settings
        return simulator_cli.run(args)
    if args.command == "ivr":  # flow files only: needs no settings
        return ivr_cli.run(args)
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"callcenter: config error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    logging.basicConfig(
        level=settings.logging.level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for chatty in ("alembic", "aiosqlite", "asyncio", "matplotlib"):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, logging.root.level))
    try:
        return _dispatch(args, settings)
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    from callcenter.app import StartupError, serve
    from callcenter.ivr.prompts import PromptError, build_prompts

    try:
        if args.command == "serve":
            return asyncio.run(serve(settings, insecure_demo=args.insecure_demo))
        if args.command == "db":
            from callcenter.db.migrate import upgrade

            asyncio.run(upgrade(settings.database.url, settings.ticketing.default_region))
            print("database is at the newest schema")
            return 0
        if args.command == "demo":
            return asyncio.run(_load_demo(settings))
        if args.command == "users":
            return users_cli.run(args, settings)
        if args.command == "import":
            return import_cli.run(args, settings)
        if args.command == "naming":
            return naming_cli.run(args, settings)
        if args.command == "report":
            return report_cli.run(args, settings)
        if args.command == "prompts":
            made = build_prompts(settings.prompts.catalogue, settings.prompts.directory)
            print(f"{made} prompts built in {settings.prompts.directory}")
            return 0
        if args.command == "config":
            print(redact(settings.model_dump_json(indent=2)))  # token secret: SecretStr
            return 0
    except (StartupError, PromptError) as exc:
        print(f"callcenter: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except (ConnectionError, socket.gaierror, TimeoutError, SQLAlchemyError) as exc:
        # The database (or Redis) named in the settings cannot be reached: one line
        # naming it, no traceback. `serve` says so itself, as a StartupError.
        where = redact(settings.database.url)
        reason = redact(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        print(f"callcenter: database.url: cannot use {where}: {reason}", file=sys.stderr)
        return EXIT_CONFIG
    raise AssertionError(args.command)


async def _load_demo(settings: Settings) -> int:
    from callcenter.demo import load_demo, load_demo_repair
    from callcenter.tickets.store import open_store

    store = open_store(settings.database.url, settings.ticketing.default_region)
    try:
        await load_demo(store)
        await load_demo_repair(store)
    finally:
        await store.close()
    print("demo data loaded: Demo Corp, agents alice and bob, supervisor sue")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
