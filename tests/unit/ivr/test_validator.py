"""The validator: each kind of broken flow file is rejected in one line naming the node."""

from __future__ import annotations

from pathlib import Path

import pytest

from callcenter.ivr.flowfile import IvrConfigError, load_flows
from tests.unit.ivr.conftest import DEMO_FILE, PRODUCTION_FILE, WriteFlow

GOOD = """
start: {kind: play, prompts: [hello], next: menu}
menu:
  kind: menu
  prompts: [menu]
  choices: {"1": end}
  default: end
end: {kind: queue}
"""


def rejected(path: Path) -> str:
    with pytest.raises(IvrConfigError) as raised:
        load_flows(path)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    return message


def test_the_shipped_files_are_valid() -> None:
    assert set(load_flows(DEMO_FILE).flows) == {"helpdesk", "helpdesk_zh"}
    assert set(load_flows(PRODUCTION_FILE).flows) == {"helpdesk", "helpdesk_zh"}


def test_a_good_flow_loads(write_flow: WriteFlow) -> None:
    flow = load_flows(write_flow(GOOD)).get()
    assert flow.start == "start" and flow.queue == "q"


def test_dangling_next(write_flow: WriteFlow) -> None:
    message = rejected(write_flow(GOOD.replace("next: menu", "next: mneu")))
    assert "node 'start'" in message and "'mneu'" in message


def test_dangling_menu_choice(write_flow: WriteFlow) -> None:
    message = rejected(write_flow(GOOD.replace('{"1": end}', '{"1": end, "2": nowhere}')))
    assert "node 'menu'" in message and "choices.2" in message


def test_unknown_prompt(write_flow: WriteFlow) -> None:
    message = rejected(write_flow(GOOD.replace("[hello]", "[hello, helo]")))
    assert "node 'start'" in message and "'helo'" in message


def test_prompt_of_another_language_is_unknown(write_flow: WriteFlow) -> None:
    message = rejected(write_flow(GOOD, flow="language: zh"))  # zh has only 'hello'
    assert "node 'menu'" in message and "'menu'" in message and "zh" in message


def test_digit_prompts_need_no_catalogue_entry(write_flow: WriteFlow) -> None:
    load_flows(write_flow(GOOD.replace("[hello]", "[hello, digits/7, {say_number: '12'}]")))


def test_unreachable_node(write_flow: WriteFlow) -> None:
    message = rejected(write_flow(GOOD + "orphan: {kind: hangup}\n"))
    assert "node 'orphan'" in message and "unreachable" in message


def test_menu_without_default(write_flow: WriteFlow) -> None:
    message = rejected(write_flow(GOOD.replace("  default: end\n", "")))
    assert "node 'menu'" in message and "default" in message


@pytest.mark.parametrize(
    ("setting", "node"),
    [
        ("  timeout: 0\n", "menu"),
        ("  timeout: -5\n", "menu"),
        ("  timeout: soon\n", "menu"),
        ("  timeout: 600\n", "menu"),
    ],
)
def test_bad_menu_timers(write_flow: WriteFlow, setting: str, node: str) -> None:
    message = rejected(write_flow(GOOD.replace("  default: end\n", "  default: end\n" + setting)))
    assert f"node '{node}'" in message and "bad timer timeout" in message


def test_bad_collect_timer(write_flow: WriteFlow) -> None:
    message = rejected(
        write_flow(
            """
            ask:
              kind: collect
              prompts: [enter_ticket]
              into: ticket
              max_digits: 6
              inter_digit_timeout: 0
              next: end
              default: end
            end: {kind: queue}
            """
        )
    )
    assert "node 'ask'" in message and "inter_digit_timeout" in message


@pytest.mark.parametrize(
    ("nodes", "node", "words"),
    [
        ("a: {kind: dance}", "a", "unknown kind"),
        (
            "a: {kind: play, prompts: [hello], next: b, colour: red}\nb: {kind: hangup}",
            "a",
            "colour",
        ),
        ("a: {kind: menu, prompts: [menu], choices: {'12': a}, default: a}", "a", "'12'"),
        (
            "a: {kind: collect, prompts: [menu], into: x, min_digits: 5, max_digits: 3, "
            "next: b, default: b}\nb: {kind: hangup}",
            "a",
            "min_digits",
        ),
        ("a: {kind: set, skills: {printers: 11}, next: b}\nb: {kind: hangup}", "a", "printers"),
        ("a: {kind: transfer, target: 'call bob'}", "a", "transfer target"),
        ("a: {kind: branch, if: sunny, then: b, else: b}\nb: {kind: hangup}", "a", "sunny"),
        (
            "a: {kind: play, prompts: [{say_digits: '{ticket}'}], next: b}\nb: {kind: hangup}",
            "a",
            "'ticket' is never set",
        ),
    ],
)
def test_other_mistakes_name_the_node(
    write_flow: WriteFlow, nodes: str, node: str, words: str
) -> None:
    message = rejected(write_flow(nodes))
    assert f"node '{node}'" in message and words in message


def test_queue_without_a_queue_name(write_flow: WriteFlow, tmp_path: Path) -> None:
    path = write_flow("a: {kind: queue}")
    path.write_text(path.read_text().replace("    queue: q\n", ""))
    assert "node 'a'" in rejected(path)


def test_yaml_syntax_error_names_the_line(write_flow: WriteFlow) -> None:
    path = write_flow(GOOD)
    path.write_text(path.read_text() + "  broken: [\n")
    assert "not valid YAML at line" in rejected(path)


def test_base_file_errors_name_the_base_file(write_flow: WriteFlow, tmp_path: Path) -> None:
    base = write_flow(GOOD.replace("next: menu", "next: gone"), name="base.yaml")
    top = tmp_path / "top.yaml"
    top.write_text("base: base.yaml\nhours: always\n")
    with pytest.raises(IvrConfigError) as raised:
        load_flows(top)
    assert str(raised.value).startswith(str(base)) and "node 'start'" in str(raised.value)
