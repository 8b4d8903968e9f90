"""What a waiting caller hears between the music: place in line, hold time, callback offer."""

from __future__ import annotations

import pytest
import yaml

from callcenter.ivr.announcements import (
    QueueAnnouncements,
    announcement_prompts,
    key_prompt,
    next_announcement_in,
    wait_minutes,
    what_to_say,
)
from tests.unit.ivr.conftest import REPO

EVERYTHING = QueueAnnouncements(interval_seconds=30, position=True, wait=True)


def test_caller_number_three_with_a_four_minute_wait() -> None:
    assert what_to_say(EVERYTHING, 3, 4 * 60 + 10, "en") == [
        "queue-thereare",
        "digits/3",
        "queue-callswaiting",
        "queue-holdtime",
        "digits/4",
        "queue-minutes",
    ]


def test_next_in_line_hears_so_instead_of_a_number() -> None:
    assert what_to_say(EVERYTHING, 1, 20, "en") == [
        "queue-youarenext",
        "queue-holdtime",
        "queue-less-than",
        "digits/1",
        "queue-minute",
    ]


def test_one_minute_is_singular_and_large_places_are_read_as_numbers() -> None:
    assert what_to_say(EVERYTHING, 42, 75, "en") == [
        "queue-thereare",
        "digits/40",
        "digits/2",
        "queue-callswaiting",
        "queue-holdtime",
        "digits/1",
        "queue-minute",
    ]


def test_mandarin_reads_numbers_with_its_own_prompts() -> None:
    assert what_to_say(EVERYTHING, 12, 25 * 60, "zh") == [
        "queue-thereare",
        "digits/10",
        "digits/2",
        "queue-callswaiting",
        "queue-holdtime",
        "digits/2",
        "digits/10",
        "digits/5",
        "queue-minutes",
    ]


def test_no_estimate_without_staffed_agents_and_only_what_is_configured() -> None:
    assert what_to_say(EVERYTHING, 2, None, "en") == [
        "queue-thereare",
        "digits/2",
        "queue-callswaiting",
    ]
    wait_only = QueueAnnouncements(interval_seconds=30, position=False, wait=True)
    assert what_to_say(wait_only, 5, 600, "en") == ["queue-holdtime", "digits/10", "queue-minutes"]
    position_only = QueueAnnouncements(interval_seconds=30, position=True, wait=False)
    assert what_to_say(position_only, None, 600, "en") == []


@pytest.mark.parametrize(
    ("key", "prompt"), [("1", "digits/1"), ("*", "digits/star"), ("#", "digits/pound")]
)
def test_the_callback_offer_names_the_queue_key(key: str, prompt: str) -> None:
    offer = QueueAnnouncements(interval_seconds=30, position=False, wait=False, callback_key=key)
    assert what_to_say(offer, 4, 300, "en") == ["queue-callback-offer", prompt]
    assert offer.enabled


def test_a_bad_key_is_refused() -> None:
    with pytest.raises(ValueError, match="telephone key"):
        key_prompt("12")


@pytest.mark.parametrize(
    ("seconds", "minutes"),
    [
        (0, 0),
        (59.9, 0),
        (60, 1),
        (89, 1),
        (90, 2),
        (9 * 60 + 29, 9),
        (10 * 60 + 29, 10),
        (10 * 60 + 31, 10),
        (12 * 60 + 31, 15),
        (47 * 60, 45),
        (48 * 60, 50),
    ],
)
def test_estimates_are_rounded_as_a_caller_expects(seconds: float, minutes: int) -> None:
    assert wait_minutes(seconds) == minutes


def test_the_next_announcement_is_an_interval_after_the_last() -> None:
    assert next_announcement_in(EVERYTHING, last=100.0, now=110.0) == 20.0
    assert next_announcement_in(EVERYTHING, last=100.0, now=150.0) == 0.0
    assert next_announcement_in(QueueAnnouncements(interval_seconds=0), 100.0, 110.0) is None
    assert next_announcement_in(QueueAnnouncements(), 100.0, 110.0) is None
    silent = QueueAnnouncements(interval_seconds=30, position=False, wait=False)
    assert not silent.enabled and next_announcement_in(silent, 100.0, 110.0) is None


@pytest.mark.parametrize("language", ["en", "zh"])
def test_every_announcement_prompt_is_in_the_catalogue(language: str) -> None:
    catalogue = yaml.safe_load((REPO / "config" / "prompts.yaml").read_text(encoding="utf-8"))
    missing = set(announcement_prompts(language)) - set(catalogue[language]["prompts"])
    assert not missing


def test_english_announcements_are_the_asterisk_recordings() -> None:
    catalogue = yaml.safe_load((REPO / "config" / "prompts.yaml").read_text(encoding="utf-8"))
    for name in announcement_prompts("en"):
        if name != "queue-callback-offer":
            assert catalogue["en"]["prompts"][name] == {"sound": f"en_US_f_Allison/{name}"}
