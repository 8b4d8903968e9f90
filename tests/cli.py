"""Run a `callcenter` sub-command the way `callcenter.cli` does, and capture its output."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import pytest

AddCommands = Callable[[Any], None]
Run = Callable[[argparse.Namespace], int]


def command_parser(add_commands: AddCommands) -> argparse.ArgumentParser:
    """A stand-in for `callcenter.cli`'s parser: a `command` subparser set like its own."""
    main = argparse.ArgumentParser(prog="callcenter")
    add_commands(main.add_subparsers(dest="command", required=True))
    return main


def run_command(
    add_commands: AddCommands, run: Run, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    code = run(command_parser(add_commands).parse_args(argv))
    out, err = capsys.readouterr()
    return code, out, err
