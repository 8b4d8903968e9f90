"""`callcenter users add|list|passwd|role|disable|enable|logout`: console accounts from
the command line, the way a first admin is made on an empty database.

Passwords are read from the terminal (twice, not echoed) or, for scripts, from the first
line of standard input with `--password-stdin`; never from the command line, where other
users of the machine could read them in the process list.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from typing import Any

from callcenter.accounts.errors import AccountError
from callcenter.accounts.model import PASSWORD_MIN_LENGTH
from callcenter.accounts.service import AccountService
from callcenter.accounts.store import SqlAccounts
from callcenter.clock import SystemClock
from callcenter.settings import Settings
from callcenter.tickets.records import Role

EXIT_REFUSED = 1
ROLES = [role.value for role in Role]


def add_commands(commands: Any) -> None:
    users = commands.add_parser("users", help="console accounts").add_subparsers(
        dest="action", required=True
    )
    add = users.add_parser("add", help="create an account")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--name", required=True, help="the display name")
    add.add_argument("--sip-uri", help="the agent's phone, e.g. sip:alice@10.0.0.5:5060")
    _password_source(add)
    users.add_parser("list", help="every account with its role and state")
    passwd = users.add_parser("passwd", help="set a new password (ends its sessions)")
    passwd.add_argument("username")
    _password_source(passwd)
    role = users.add_parser("role", help="give the account another role (ends its sessions)")
    role.add_argument("username")
    role.add_argument("role", choices=ROLES)
    for action, text in (
        ("disable", "refuse its sign-in and end its sessions at once"),
        ("enable", "let a disabled account sign in again"),
        ("logout", "end every session of the account at once"),
    ):
        users.add_parser(action, help=text).add_argument("username")


def _password_source(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input",
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        return asyncio.run(_run(args, settings))
    except AccountError as exc:
        print(f"callcenter users: {exc}", file=sys.stderr)
        return EXIT_REFUSED


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    from callcenter.tickets.store import open_store

    store = open_store(settings.database.url, settings.ticketing.default_region)
    try:
        service = AccountService(SqlAccounts(store), SystemClock())
        action = args.action
        if action == "list":
            for account in await service.list():
                state = "active" if account.active else "disabled"
                print(f"{account.username}\t{account.role.value}\t{state}\t{account.display_name}")
        elif action == "add":
            password = _read_password(args.password_stdin)
            await service.add(args.username, args.name, args.role, password, args.sip_uri)
            print(f"account {args.username} ({args.role}) added")
        elif action == "passwd":
            await service.change_password(args.username, _read_password(args.password_stdin))
            print(f"password of {args.username} changed; its sessions are ended")
        elif action == "role":
            await service.change_role(args.username, args.role)
            print(f"{args.username} is now {args.role}; its sessions are ended")
        elif action == "disable":
            await service.disable(args.username)
            print(f"{args.username} disabled; its sessions are ended")
        elif action == "enable":
            await service.enable(args.username)
            print(f"{args.username} enabled")
        elif action == "logout":
            await service.logout(args.username)
            print(f"every session of {args.username} is ended")
    finally:
        await store.close()
    return 0


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(f"new password (at least {PASSWORD_MIN_LENGTH} characters): ")
    if getpass.getpass("again: ") != first:
        raise _Mismatch()
    return first


class _Mismatch(AccountError):
    def __init__(self) -> None:
        super().__init__("the two passwords differ")
