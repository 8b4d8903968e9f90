"""The IVR's findings ride with the call through the ACD, within bounds."""

from __future__ import annotations

import pytest

from callcenter.acd import commands as cmd
from callcenter.acd.core import MAX_ATTRIBUTE_LENGTH, MAX_ATTRIBUTES
from callcenter.acd.errors import InvalidSetting
from callcenter.acd.model import QueueSettings
from tests.unit.acd.desk import HELPDESK, Desk


def test_enqueue_keeps_the_attributes_on_the_call() -> None:
    desk = Desk()
    desk.acd.enqueue("c1", HELPDESK, "+1", attributes={"topic": "hardware", "incident": "42"})
    assert desk.acd.call("c1").attributes == {"topic": "hardware", "incident": "42"}


def test_a_call_without_attributes_has_none() -> None:
    desk = Desk()
    desk.acd.enqueue("c1", HELPDESK, "+1")
    assert desk.acd.call("c1").attributes == {}


def test_attributes_stay_with_a_call_moved_to_another_queue() -> None:
    desk = Desk((QueueSettings(HELPDESK), QueueSettings("vip")))
    desk.acd.enqueue("c1", HELPDESK, "+1", attributes={"topic": "accounts"})
    desk.acd.transfer_to_queue("c1", "vip")
    assert desk.acd.call("c1").queue == "vip"
    assert desk.acd.call("c1").attributes == {"topic": "accounts"}


@pytest.mark.parametrize(
    "attributes",
    [
        {f"k{i}": "v" for i in range(MAX_ATTRIBUTES + 1)},
        {"": "empty name"},
        {"topic": "x" * (MAX_ATTRIBUTE_LENGTH + 1)},
        {"y" * (MAX_ATTRIBUTE_LENGTH + 1): "v"},
    ],
)
def test_too_many_or_too_long_attributes_are_refused_and_nothing_is_queued(
    attributes: dict[str, str],
) -> None:
    desk = Desk()
    with pytest.raises(InvalidSetting):
        desk.acd.enqueue("c1", HELPDESK, "+1", attributes=attributes)
    assert not desk.acd.has_call("c1")


def test_the_enqueue_command_carries_the_attributes_through_json() -> None:
    command = cmd.Enqueue("c1", HELPDESK, "+1", 0, None, {"topic": "software"})
    decoded = cmd.decode(cmd.encode(command))
    desk = Desk()
    decoded.apply(desk.acd)
    assert desk.acd.call("c1").attributes == {"topic": "software"}
