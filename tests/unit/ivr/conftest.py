"""Shared fixtures: the demo flow file of config/, and small flow files written per test."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from callcenter.ivr.flowfile import FlowSet, load_flows

REPO = Path(__file__).resolve().parents[3]
DEMO_FILE = REPO / "config" / "ivr.yaml"
PRODUCTION_FILE = REPO / "config" / "ivr.production.yaml"

CATALOGUE = """
en:
  prompts:
    hello: {text: Hello.}
    menu: {text: Press 1 or 2.}
    again: {text: Sorry.}
    enter_ticket: {text: Enter your ticket number, then the hash key.}
    bad_ticket: {text: That is not a ticket number.}
    bye: {text: Goodbye.}
zh:
  prompts:
    hello: {text: 你好。}
"""

#: Written to a file as the flow file's `flows.test.nodes`.
WriteFlow = Callable[..., Path]


@pytest.fixture(scope="session")
def demo() -> FlowSet:
    return load_flows(DEMO_FILE)


@pytest.fixture
def write_flow(tmp_path: Path) -> WriteFlow:
    """Write a flow file with one flow `test` (and a catalogue); returns the file's path."""

    def write(nodes: str, *, header: str = "", flow: str = "", name: str = "flows.yaml") -> Path:
        (tmp_path / "prompts.yaml").write_text(CATALOGUE, encoding="utf-8")
        body = textwrap.indent(textwrap.dedent(nodes).strip(), " " * 6)
        extra = textwrap.indent(textwrap.dedent(flow).strip(), " " * 4)
        text = (
            textwrap.dedent(header).strip()
            + "\nflows:\n  test:\n    queue: q\n"
            + (extra + "\n" if extra.strip() else "")
            + "    nodes:\n"
            + body
            + "\n"
        )
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write
