"""Prompt names with a folder (digits/7) survive the round trip through a file path."""

from __future__ import annotations

from pathlib import Path

from callcenter.ivr.flowfile import FlowSet
from callcenter.ivr.prompts import PromptLibrary


def test_name_of_is_the_inverse_of_path(tmp_path: Path) -> None:
    library = PromptLibrary(tmp_path / "prompts", "zh")
    for name in ("greeting", "digits/7", "digits/hundred"):
        assert library.name_of(library.path(name)) == name
    assert library.name_of(Path("/elsewhere/greeting.wav")) == "greeting"


def test_prompt_names_lists_what_the_demo_may_play(demo: FlowSet) -> None:
    names = demo.get().prompt_names()
    assert {"ivr_welcome", "main_menu", "invalid_option", "no_input", "goodbye"} <= set(names)
    assert "digits/9" in names  # the incident number is read digit by digit
    assert "greeting" not in names
