"""The naming standard: asset numbers, device names, user names."""

from __future__ import annotations

import pytest

from callcenter.cmdb.naming import (
    AssetNumber,
    DeviceName,
    NamingError,
    NamingStandard,
    UserName,
    parse_asset_number,
    parse_device_name,
    parse_user_name,
)


def test_the_examples_of_the_mission_parse() -> None:
    assert parse_asset_number("0000COM1234") == AssetNumber("0000", "COM", "1234")
    assert parse_device_name("KJC-COM-1234") == DeviceName("KJC", "COM", "1234")
    assert parse_user_name("zhangshanKJC") == UserName("zhangshan", "KJC")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("000COM1234", "does not match"),
        ("0000COM12345", "does not match"),
        ("0000com1234", "does not match"),
        ("0000XYZ1234", "unknown device type 'XYZ'"),
        (" 0000COM1234", "does not match"),
        ("0000COM1234\n", "does not match"),
    ],
)
def test_bad_asset_numbers(text: str, message: str) -> None:
    with pytest.raises(NamingError, match=message) as caught:
        parse_asset_number(text)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    "text", ["KJC_COM_1234", "kjc-COM-1234", "KJC-COM-123", "KJC-COMP-1234", "-COM-1234"]
)
def test_bad_device_names(text: str) -> None:
    with pytest.raises(NamingError):
        parse_device_name(text)


@pytest.mark.parametrize("text", ["ZhangshanKJC", "zhangshan", "zhang shanKJC", "z1KJC", "KJC"])
def test_bad_user_names(text: str) -> None:
    with pytest.raises(NamingError):
        parse_user_name(text)


def test_device_types_and_departments_are_configurable() -> None:
    standard = NamingStandard.from_data(
        {"device_types": ["COM", "TAB"], "departments": ["KJC", "XXB"]}
    )
    assert standard.parse_device_name("XXB-TAB-0001").device_type == "TAB"
    with pytest.raises(NamingError, match="unknown device type 'PRN'"):
        standard.parse_device_name("KJC-PRN-0001")
    with pytest.raises(NamingError, match="unknown department 'ABC'"):
        standard.parse_user_name("lisiABC")
    # The default standard knows PRN and any department.
    assert parse_device_name("ABC-PRN-0001").department == "ABC"


def test_patterns_are_configurable() -> None:
    standard = NamingStandard.from_data(
        {"patterns": {"asset": r"(?P<contract>\d{6})-(?P<type>[A-Z]{3})-(?P<serial>\d{5})"}}
    )
    assert standard.parse_asset_number("123456-LAP-00042") == AssetNumber("123456", "LAP", "00042")
    with pytest.raises(NamingError):
        standard.parse_asset_number("0000COM1234")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"patterns": {"asset": r"(?P<contract>\d{4})(?P<type>[A-Z]{3})"}}, "lacks the group"),
        ({"patterns": {"user": "("}}, "user pattern is not a regex"),
        ({"patterns": {"phone": "x"}}, "unknown pattern 'phone'"),
        ({"device_types": "COM"}, "must be a list"),
        ({"device_types": ["com"]}, "not an upper-case code"),
        ({"device_types": []}, "no device type codes"),
        ({"colour": 1}, "unknown key 'colour'"),
    ],
)
def test_invalid_standards(data: dict[str, object], message: str) -> None:
    with pytest.raises(NamingError, match=message):
        NamingStandard.from_data(data)


def test_formatting_pads_and_validates() -> None:
    standard = NamingStandard()
    assert standard.asset_number(7, "com", 42) == "0007COM0042"
    assert standard.device_name("kjc", "LAP", 3) == "KJC-LAP-0003"
    assert standard.user_name("Zhang Shan", "kjc") == "zhangshanKJC"
    with pytest.raises(NamingError, match="does not fit in 4 digits"):
        standard.asset_number(10000, "COM", 1)
    with pytest.raises(NamingError, match="unknown device type"):
        standard.device_name("KJC", "XYZ", 1)


def test_asset_number_and_device_name_must_agree() -> None:
    standard = NamingStandard()
    asset, name = standard.check_device("0001COM1234", "KJC-COM-1234")
    assert (asset.serial, name.department) == ("1234", "KJC")
    with pytest.raises(NamingError, match="disagree"):
        standard.check_device("0001COM1234", "KJC-LAP-1234")
    with pytest.raises(NamingError, match="disagree"):
        standard.check_device("0001COM1234", "KJC-COM-1235")
