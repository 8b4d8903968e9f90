"""Prompt names, with folders (digits/7), map to files under the language's directory."""

from __future__ import annotations

from pathlib import Path

from callcenter.ivr.flowfile import FlowSet
from callcenter.ivr.prompts import PromptLibrary


def test_prompt_paths_keep_folders_under_the_language(tmp_path: Path) -> None:
    library = PromptLibrary(tmp_path / "prompts", "zh")
    assert library.path("digits/7") == tmp_path / "prompts" / "zh" / "digits" / "7.wav"
    assert library.path("greeting") == tmp_path / "prompts" / "zh" / "greeting.wav"


def test_prompt_names_lists_what_the_demo_may_play(demo: FlowSet) -> None:
    names = demo.get().prompt_names()
    assert {"ivr_welcome", "main_menu", "invalid_option", "no_input", "goodbye"} <= set(names)
    assert "digits/9" in names  # the incident number is read digit by digit
    assert "greeting" not in names
