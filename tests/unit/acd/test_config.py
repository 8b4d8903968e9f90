"""The ACD keys of the configuration file reach the core as QueueSettings."""

from __future__ import annotations

from pathlib import Path

import pytest

from callcenter.acd.model import (
    DEFAULT_PAUSE_REASONS,
    JoinEmpty,
    OverflowKind,
    OverflowTarget,
    QueueSettings,
    SkillStep,
    Strategy,
)
from callcenter.acd.service_level import ServiceLevelFormula
from callcenter.settings import ConfigError, Settings, load_settings

ROOT = Path(__file__).resolve().parents[3]

FULL = """
acd:
  default_queue: helpdesk
  pause_reasons: [lunch, coaching]
  utc_offset_hours: 8
  random_seed: 42
  queues:
    - name: helpdesk
      strategy: skills_based
      service_level_formula: cisco_ignore
      skill_relaxation:
        - {after_seconds: 30, min_level: 3}
        - {after_seconds: 90, min_level: null}
      resume_window_seconds: 60
      max_waiting: 20
      max_wait_seconds: 600
      overflow_target: {kind: queue, name: backup}
      join_empty: overflow
      callback_retries: 1
      callback_retry_seconds: 120
      default_aht_seconds: 240
    - name: backup
      overflow_target: {kind: ticket_only}
"""


def load_text(tmp_path: Path, text: str) -> Settings:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    return load_settings(path, environ={})


def test_the_shipped_file_keeps_the_defaults_but_relaxes_the_demo_skills() -> None:
    settings = load_settings(ROOT / "config" / "callcenter.yaml", environ={})
    [queue] = settings.acd.queues

    # The demo IVR asks for skills; after a minute anyone of the queue may take the call.
    assert queue.to_domain() == QueueSettings("helpdesk", skill_relaxation=(SkillStep(60.0, None),))
    assert settings.acd.pause_reasons == list(DEFAULT_PAUSE_REASONS)
    assert (settings.acd.utc_offset_hours, settings.acd.random_seed) == (0, None)


def test_every_new_queue_key_reaches_the_core(tmp_path: Path) -> None:
    settings = load_text(tmp_path, FULL)
    helpdesk, backup = (q.to_domain() for q in settings.acd.queues)

    assert helpdesk == QueueSettings(
        "helpdesk",
        strategy=Strategy.SKILLS_BASED,
        service_level_formula=ServiceLevelFormula.CISCO_IGNORE,
        skill_relaxation=(SkillStep(30, 3), SkillStep(90, None)),
        resume_window_seconds=60,
        max_waiting=20,
        max_wait_seconds=600,
        overflow_target=OverflowTarget(OverflowKind.QUEUE, "backup"),
        join_empty=JoinEmpty.OVERFLOW,
        callback_retries=1,
        callback_retry_seconds=120,
        default_aht_seconds=240,
    )
    assert backup.overflow_target == OverflowTarget(OverflowKind.TICKET_ONLY)
    acd = settings.acd
    assert (acd.pause_reasons, acd.utc_offset_hours, acd.random_seed) == (
        ["lunch", "coaching"],
        8,
        42,
    )


@pytest.mark.parametrize(
    ("queue_yaml", "message"),
    [
        ("overflow_target: {kind: queue, name: nowhere}", "overflows to 'nowhere'"),
        ("overflow_target: {kind: queue, name: helpdesk}", "overflows into itself"),
        ("overflow_target: {kind: queue}", "needs the queue's name"),
        ("overflow_target: {kind: voicemail}", "overflow_target.kind"),
        ("strategy: fastest", "strategy"),
        ("service_level_formula: genesys", "service_level_formula"),
        ("skill_relaxation: [{after_seconds: 30, min_level: 11}]", "min_level"),
        ("max_waiting: 0", "max_waiting"),
        ("join_empty: never", "join_empty"),
    ],
)
def test_bad_acd_keys_are_one_line_naming_them(
    tmp_path: Path, queue_yaml: str, message: str
) -> None:
    text = f"acd:\n  queues:\n    - name: helpdesk\n      {queue_yaml}\n"
    with pytest.raises(ConfigError) as info:
        load_text(tmp_path, text)

    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_the_utc_offset_comes_from_the_environment_too() -> None:
    settings = load_settings(
        ROOT / "config" / "callcenter.yaml", environ={"CALLCENTER_ACD_UTC_OFFSET_HOURS": "-5"}
    )
    assert settings.acd.utc_offset_hours == -5
