from __future__ import annotations

import pytest

from callcenter.directory.phone import normalise, numbers_in_text


@pytest.mark.parametrize(
    "raw",
    [
        "+862088881001",
        "020 8888 1001",
        "020-8888 1001",
        "(020) 8888/1001",
        "+86 20 8888-1001",
        "0086 20 8888 1001",
        "  02088881001  ",
        "020 8888 1001 ext. 5",
    ],
)
def test_written_forms_of_one_guangzhou_number_agree(raw: str) -> None:
    assert normalise(raw, "CN") == "+862088881001"


def test_a_mobile_number_without_prefix() -> None:
    assert normalise("138 0013 8000", "CN") == "+8613800138000"


def test_the_region_decides_how_a_national_number_is_read() -> None:
    assert normalise("(650) 253-0000", "US") == "+16502530000"
    assert normalise("020 7946 0018", "GB") == "+442079460018"


def test_an_international_number_ignores_the_default_region() -> None:
    assert normalise("+1 650 253 0000", "CN") == "+16502530000"


@pytest.mark.parametrize(
    "raw",
    ["", "   ", "abc", "hotline", "12", "110", "8888 1001", "+86 20 8888 10011111111", "1" * 200],
)
def test_garbage_and_incomplete_numbers_give_none(raw: str) -> None:
    assert normalise(raw, "CN") is None


def test_an_unknown_region_gives_none_for_national_numbers() -> None:
    assert normalise("020 8888 1001", "ZZ") is None


# -- numbers written in ticket text (the screen pop's "maybe") ---------------------------


@pytest.mark.parametrize(
    "written",
    [
        "020-8888 1001",
        "(020) 8888-1001",
        "020 - 8888 - 1001",
        "+86 20 8888 1001",
        "0086 20 8888 1001",
        "02088881001",
    ],
)
def test_a_number_in_text_is_found_in_any_house_style(written: str) -> None:
    text = f"User says: please call back on {written} after lunch."
    assert numbers_in_text(text, "CN") == [("+862088881001", written)]


def test_each_number_once_first_spelling_in_order() -> None:
    text = "mobile 138 0013 8000, desk (020) 8888 1002; again: 13800138000"
    assert numbers_in_text(text, "CN") == [
        ("+8613800138000", "138 0013 8000"),
        ("+862088881002", "(020) 8888 1002"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "[2025-03-10T09:00:00+00:00 wrap-up by alice] printer jams",
        "asset KJC-COM-0001, serial 5CG1234567",
        "extension 1001",
        "ticket 123456 merged into 123457",
    ],
)
def test_dates_tags_extensions_and_ids_are_not_numbers(text: str) -> None:
    assert numbers_in_text(text, "CN") == []


def test_the_region_reads_national_numbers_and_zz_only_international_ones() -> None:
    assert numbers_in_text("call (650) 253-0000", "US") == [("+16502530000", "(650) 253-0000")]
    assert numbers_in_text("call 020 8888 1001 or +1 650 253 0000", "ZZ") == [
        ("+16502530000", "+1 650 253 0000")
    ]
