"""Which of a configuration item's changed names break the standard (the CMDB REST's
check), and the helpers the import and `naming check` use."""

from __future__ import annotations

import pytest

from callcenter.cmdb.naming import (
    DEFAULT_STANDARD,
    NamingError,
    NamingStandard,
    item_naming_errors,
)


def test_good_names_have_no_errors() -> None:
    assert item_naming_errors(DEFAULT_STANDARD, "0000COM0042", "KJC-COM-0042", ["name"]) == []


def test_only_the_changed_fields_are_judged() -> None:
    # The stored asset tag is off the standard; renaming the device is still fine.
    assert item_naming_errors(DEFAULT_STANDARD, "A-42", "KJC-COM-0042", ["name"]) == []
    [(field, message)] = item_naming_errors(DEFAULT_STANDARD, "A-42", "KJC-COM-0042", ["asset_tag"])
    assert field == "asset_tag" and message.startswith("asset number 'A-42' does not match")


def test_both_fields_are_reported_in_order() -> None:
    found = item_naming_errors(DEFAULT_STANDARD, "A-42", "kjc-42", ["name", "asset_tag"])
    assert [field for field, _ in found] == ["asset_tag", "name"]


@pytest.mark.parametrize(("changed", "blamed"), [(["name"], "name"), (["asset_tag"], "asset_tag")])
def test_disagreement_is_blamed_on_the_changed_name(changed: list[str], blamed: str) -> None:
    found = item_naming_errors(DEFAULT_STANDARD, "0000COM0042", "KJC-COM-0043", changed)
    [(field, message)] = found
    assert field == blamed and "disagree on type or serial" in message


def test_department_codes_on_their_own() -> None:
    standard = NamingStandard(departments=frozenset({"KJC"}))
    assert standard.check_department("KJC") == "KJC"
    with pytest.raises(NamingError, match="unknown department 'HR'"):
        standard.check_department("HR")
    assert DEFAULT_STANDARD.check_department("HR") == "HR"


def test_fits_pattern_ignores_the_codes() -> None:
    assert DEFAULT_STANDARD.fits_pattern("device", "KJC-XYZ-0001")
    assert not DEFAULT_STANDARD.fits_pattern("device", "KJC_COM_0001")
    assert not DEFAULT_STANDARD.fits_pattern("asset", "KJC-COM-0001")
