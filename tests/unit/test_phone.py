from __future__ import annotations

import pytest

from callcenter.ticketing.phone import normalise


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
