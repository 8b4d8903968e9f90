"""say_digits and say_number: English Asterisk recordings, Mandarin synthesised prompts."""

from __future__ import annotations

import pytest
import yaml

from callcenter.ivr.numbers import number_prompts, say_digits, say_number
from tests.unit.ivr.conftest import REPO


def names(prompts: list[str]) -> list[str]:
    return [p.removeprefix("digits/") for p in prompts]


def test_say_digits_reads_each_digit_and_skips_separators() -> None:
    assert names(say_digits("40-17 3")) == ["4", "0", "1", "7", "3"]
    assert say_digits("") == []


@pytest.mark.parametrize(
    ("number", "spoken"),
    [
        (0, ["0"]),
        (7, ["7"]),
        (13, ["13"]),
        (20, ["20"]),
        (42, ["40", "2"]),
        (100, ["1", "hundred"]),
        (305, ["3", "hundred", "5"]),
        (4521, ["4", "thousand", "5", "hundred", "20", "1"]),
        (1_000_019, ["1", "million", "19"]),
        (2_000_000_000, ["2", "billion"]),
        (-3, ["minus", "3"]),
    ],
)
def test_english_numbers(number: int, spoken: list[str]) -> None:
    assert names(say_number(number, "en")) == spoken


@pytest.mark.parametrize(
    ("number", "spoken"),
    [
        (0, "零"),
        (10, "十"),
        (15, "十五"),
        (20, "二十"),
        (105, "一百零五"),
        (110, "一百一十"),
        (1005, "一千零五"),
        (1020, "一千零二十"),
        (10000, "一万"),
        (10010, "一万零一十"),
        (100000, "十万"),
        (120_000_305, "一亿二千万零三百零五"),
    ],
)
def test_mandarin_numbers(number: int, spoken: str) -> None:
    words = {
        **{f"digits/{d}": "零一二三四五六七八九"[d] for d in range(10)},
        "digits/10": "十",
        "digits/hundred": "百",
        "digits/thousand": "千",
        "digits/10000": "万",
        "digits/100000000": "亿",
    }
    assert "".join(words[p] for p in say_number(number, "zh")) == spoken


def test_not_a_number_is_read_as_digits() -> None:
    assert names(say_number("12a4")) == ["1", "2", "4"]
    assert names(say_number("1234567890123")) == list("1234567890123")


def test_unknown_language_is_an_error() -> None:
    with pytest.raises(ValueError, match="fr"):
        say_digits("1", "fr")


@pytest.mark.parametrize("language", ["en", "zh"])
def test_every_number_prompt_is_in_the_catalogue(language: str) -> None:
    catalogue = yaml.safe_load((REPO / "config" / "prompts.yaml").read_text(encoding="utf-8"))
    missing = set(number_prompts(language)) - set(catalogue[language]["prompts"])
    assert not missing
    produced = {p for n in range(0, 2_000_000, 997) for p in say_number(n, language)}
    assert produced <= set(number_prompts(language))


def test_english_number_prompts_are_asterisk_recordings() -> None:
    catalogue = yaml.safe_load((REPO / "config" / "prompts.yaml").read_text(encoding="utf-8"))
    for name in number_prompts("en"):
        assert catalogue["en"]["prompts"][name] == {"sound": f"en_US_f_Allison/{name}"}
