"""Prompt files: built once at set-up from the texts in config/prompts.yaml, found by name."""

from __future__ import annotations

import hashlib
import logging
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import yaml

log = logging.getLogger(__name__)

SOUNDS_DIR = Path("/usr/share/asterisk/sounds")


class PromptError(Exception):
    pass


class PromptLibrary:
    def __init__(self, directory: Path, language: str = "en") -> None:
        self.directory = directory
        self.language = language

    def path(self, name: str) -> Path:
        return self.directory / self.language / f"{name}.wav"

    def require(self, names: list[str]) -> None:
        """Fail at start-up, not in a caller's ear, when a prompt was never built."""
        for name in names:
            if not self.path(name).is_file():
                raise PromptError(
                    f"prompt {name!r} missing at {self.path(name)}: run `callcenter prompts build`"
                )


def build_prompts(catalogue: Path, directory: Path) -> int:
    """Synthesise or convert every prompt whose source changed; returns how many were made."""
    try:
        spec = yaml.safe_load(catalogue.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise PromptError(f"prompts.catalogue: cannot read {catalogue}: {exc}") from None
    try:
        return _build_all(catalogue, spec, directory)
    except subprocess.CalledProcessError as exc:
        raise PromptError(f"making a prompt failed: {' '.join(exc.cmd)}") from None
    except (KeyError, AttributeError, TypeError):
        raise PromptError(f"{catalogue}: each language needs a 'prompts' mapping") from None


def _build_all(catalogue: Path, spec: dict[str, Any], directory: Path) -> int:
    made = 0
    for language, section in spec.items():
        voice = section.get("voice", language)
        for name, source in section["prompts"].items():
            target = directory / language / f"{name}.wav"
            stamp = target.with_suffix(".source")
            key = hashlib.sha256(repr((voice, sorted(source.items()))).encode()).hexdigest()
            if target.is_file() and stamp.is_file() and stamp.read_text() == key:
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if "text" in source:
                _synthesise(source["text"], voice, target)
            elif "sound" in source:
                _convert(SOUNDS_DIR / f"{source['sound']}.wav", target)
            else:
                raise PromptError(
                    f"{catalogue}: prompt {language}.{name} has neither text nor sound"
                )
            stamp.write_text(key)
            made += 1
            log.info("built prompt %s", target)
    return made


def _tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise PromptError(f"{name} not found: install the Debian package {package}")
    return path


def _synthesise(text: str, voice: str, target: Path) -> None:
    espeak = _tool("espeak-ng", "espeak-ng")
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        subprocess.run([espeak, "-v", voice, "-s", "150", "-w", str(raw), text], check=True)
        _convert(raw, target)


def _convert(source: Path, target: Path) -> None:
    """8 kHz 16-bit mono, the telephone rate: the bridge's default, and G.711's."""
    if not source.is_file():
        raise PromptError(f"sound file {source} missing: install asterisk-core-sounds-en-wav")
    sox = _tool("sox", "sox")
    subprocess.run(
        [
            sox,
            str(source),
            "-r",
            "8000",
            "-c",
            "1",
            "-b",
            "16",
            "-e",
            "signed-integer",
            str(target),
        ],
        check=True,
    )
