"""Arrival profiles: the default curve, normalisation, and the CSV/YAML interval files."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from callcenter.simulator.profile import (
    DEFAULT_PROFILE,
    ArrivalProfile,
    ProfileError,
    clock_label,
    load_series,
    parse_clock,
    parse_csv_series,
    parse_yaml_series,
)


def weight_at(profile: ArrivalProfile, label: str) -> float:
    return profile.weights[profile.starts().index(parse_clock(label))]


def test_the_default_curve_covers_the_service_day_in_quarter_hours() -> None:
    assert DEFAULT_PROFILE.describe() == "08:30-17:30"
    assert len(DEFAULT_PROFILE.weights) == 36
    assert math.isclose(sum(DEFAULT_PROFILE.shares), 1.0)


def test_the_default_curve_peaks_in_the_morning_and_after_lunch() -> None:
    top = max(DEFAULT_PROFILE.weights)
    starts, weights = DEFAULT_PROFILE.starts(), DEFAULT_PROFILE.weights
    peaks = [s for s, w in zip(starts, weights, strict=True) if w == top]
    assert all(parse_clock("09:00") <= s < parse_clock("11:00") for s in peaks)
    afternoon = max(weight_at(DEFAULT_PROFILE, t) for t in ("14:00", "14:15", "14:30", "14:45"))
    assert afternoon > weight_at(DEFAULT_PROFILE, "12:30")
    assert afternoon > weight_at(DEFAULT_PROFILE, "16:30")


def test_shares_are_the_weights_normalised() -> None:
    profile = ArrivalProfile(parse_clock("08:00"), (1.0, 3.0, 0.0, 4.0))
    assert profile.shares == (0.125, 0.375, 0.0, 0.5)
    assert ArrivalProfile.flat(4).shares == (0.25,) * 4


def test_a_mapping_fills_missing_intervals_with_zero() -> None:
    profile = ArrivalProfile.from_mapping({parse_clock("09:00"): 2, parse_clock("09:45"): 6})
    assert profile.start_minute == 9 * 60
    assert profile.weights == (2.0, 0.0, 0.0, 6.0)
    assert profile.describe() == "09:00-10:00"


@pytest.mark.parametrize(
    ("start", "weights", "message"),
    [
        (9 * 60 + 5, (1.0,), "quarter hour"),
        (9 * 60, (), "no interval"),
        (9 * 60, (1.0, -1.0), "0 or more"),
        (9 * 60, (math.nan,), "0 or more"),
        (9 * 60, (0.0, 0.0), "add up to 0"),
    ],
)
def test_bad_profiles_are_refused(start: int, weights: tuple[float, ...], message: str) -> None:
    with pytest.raises(ProfileError, match=message):
        ArrivalProfile(start, weights)


def test_clock_labels_go_past_midnight_for_long_runs() -> None:
    assert clock_label(8 * 60 + 30) == "08:30"
    assert clock_label(25 * 60 + 15) == "25:15"


@pytest.mark.parametrize("text", ["8h30", "24:00", "09:60", "9:5", "", "ab:cd"])
def test_bad_times_are_refused(text: str) -> None:
    with pytest.raises(ProfileError, match="HH:MM"):
        parse_clock(text)


def test_csv_with_a_header_comments_and_blank_lines() -> None:
    text = "start,weight\n# morning\n08:30,4\n\n08:45, 6.5\n9:00,0\n"
    assert parse_csv_series(text) == {510: 4.0, 525: 6.5, 540: 0.0}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("08:30,4\n08:30,5\n", "twice"),
        ("08:31,4\n", "15-minute"),
        ("08:30,4\n08:45,lots\n", "not a number"),
        ("08:30,-2\n", "0 or more"),
        ("08:30\n", "HH:MM,value"),
        ("start,weight\n", "no interval"),
    ],
)
def test_bad_csv_is_refused(text: str, message: str) -> None:
    with pytest.raises(ProfileError, match=message):
        parse_csv_series(text)


def test_yaml_mapping_reads_unquoted_times_too() -> None:
    # YAML 1.1 reads 9:30 as the base-60 integer 570, which is the minute of the day.
    text = '"08:30": 4\n08:45: 5\n9:00: 6\n10:15: 2\n'
    assert parse_yaml_series(text) == {510: 4.0, 525: 5.0, 540: 6.0, 615: 2.0}


def test_yaml_list_of_entries() -> None:
    text = "- {start: '08:30', weight: 3}\n- {start: '08:45', agents: 12}\n"
    assert parse_yaml_series(text) == {510: 3.0, 525: 12.0}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("just text", "expected a mapping"),
        ("'08:30': many\n", "not a number"),
        ("- {weight: 3}\n", "start"),
        ("- {start: '08:30', weight: 3, agents: 2}\n", "one of"),
        ("'08:30': [1\n", "not valid YAML"),
        ("true: 3\n", "HH:MM"),
    ],
)
def test_bad_yaml_is_refused(text: str, message: str) -> None:
    with pytest.raises(ProfileError, match=message):
        parse_yaml_series(text)


def test_files_are_read_by_suffix(tmp_path: Path) -> None:
    csv_file = tmp_path / "profile.csv"
    csv_file.write_text("08:30,1\n08:45,2\n")
    yaml_file = tmp_path / "profile.yaml"
    yaml_file.write_text("'08:30': 1\n'08:45': 2\n")
    assert load_series(csv_file) == load_series(yaml_file) == {510: 1.0, 525: 2.0}
    with pytest.raises(ProfileError, match="cannot read"):
        load_series(tmp_path / "missing.csv")
