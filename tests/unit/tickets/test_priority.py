"""Priority from impact x urgency: the default matrix and matrices given as data."""

from __future__ import annotations

import pytest

from callcenter.tickets.priority import (
    DEFAULT_MATRIX,
    Level,
    PriorityError,
    PriorityMatrix,
    parse_level,
    priority_of,
)


@pytest.mark.parametrize(
    ("impact", "urgency", "expected"),
    [
        (1, 1, 1),
        (1, 2, 2),
        (2, 1, 2),
        (1, 3, 3),
        (2, 2, 3),
        (3, 1, 3),
        (2, 3, 4),
        (3, 2, 4),
        (3, 3, 4),
    ],
)
def test_default_matrix(impact: int, urgency: int, expected: int) -> None:
    assert priority_of(impact, urgency) == expected


def test_medium_medium_matches_the_stores_default_priority() -> None:
    from callcenter.tickets.store import DEFAULT_PRIORITY

    assert priority_of("medium", "medium") == DEFAULT_PRIORITY


def test_named_levels_in_any_case() -> None:
    assert priority_of("High", "LOW") == 3
    assert parse_level(" medium ") is Level.MEDIUM
    assert parse_level("2") is Level.MEDIUM


@pytest.mark.parametrize("bad", [0, 4, "urgent", True, "", -1])
def test_unknown_levels_are_refused(bad: object) -> None:
    with pytest.raises(PriorityError, match=r"expected 1\.\.3"):
        DEFAULT_MATRIX.priority(bad, 1)  # type: ignore[arg-type]


def test_matrix_from_rows_with_five_priorities() -> None:
    matrix = PriorityMatrix.from_data([[1, 2, 3], [2, 3, 4], [3, 4, 5]])
    assert matrix.priority("low", "low") == 5
    assert matrix.to_data() == [[1, 2, 3], [2, 3, 4], [3, 4, 5]]


def test_matrix_from_mapping() -> None:
    data = {
        "high": {"high": 1, "medium": 1, "low": 2},
        "medium": {"high": 2, "medium": 3, "low": 3},
        3: {1: 3, 2: 4, 3: 4},
    }
    matrix = PriorityMatrix.from_data(data)
    assert matrix.priority(1, 2) == 1
    assert matrix.priority(3, 1) == 3


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([[1, 2, 3], [2, 3, 4]], "2 rows, expected 3"),
        ([[1, 2, 3], [2, 3], [3, 4, 4]], "row 2 has 2 cells"),
        ([[1, 2, 3], [2, 3, 4], [3, 4, 6]], "6 is outside 1..5"),
        ([[0, 2, 3], [2, 3, 4], [3, 4, 4]], "0 is outside"),
        ([[1, 2, 3], [2, "x", 4], [3, 4, 4]], "'x' is not a whole number"),
        ([[1, 2, 3], [2, 3, 4], [3, 4, True]], "True is not a whole number"),
        ([[1, 3, 2], [2, 3, 4], [3, 4, 4]], "row 1: lower urgency gives a higher priority"),
        ([[2, 2, 3], [1, 3, 4], [3, 4, 4]], "column 1: lower impact gives a higher priority"),
        ("1,2,3", "expected a list of 3 rows or a mapping"),
        ([[1, 2, 3], "234", [3, 4, 4]], "row 2 is not a list"),
        ({"high": {"high": 1, "medium": 2, "low": 3}}, "impact medium missing"),
        (
            {"high": {"high": 1, "medium": 2}, "medium": {}, "low": {}},
            "impact high, urgency low missing",
        ),
        ({"severe": {}}, "impact 'severe'"),
        ({"high": {"high": 1, 1: 1}}, "urgency high given twice"),
    ],
)
def test_invalid_matrices_give_one_line_errors(data: object, message: str) -> None:
    with pytest.raises(PriorityError, match=message) as caught:
        PriorityMatrix.from_data(data)
    assert "\n" not in str(caught.value)


def test_priority_of_uses_a_given_matrix() -> None:
    flat = PriorityMatrix.from_data([[2, 2, 2], [2, 2, 2], [2, 2, 2]])
    assert priority_of("high", "high", flat) == 2
    assert priority_of("high", "high") == 1
