"""A ticket's priority from its impact and its urgency.

Impact (how much of the business is affected) and urgency (how soon it hurts) are each
rated 1 (high) .. 3 (low), or by name. A matrix gives the priority of each pair; the
default is ITIL-like and stays within 1 (critical) .. 4 (low), the range the `ticket`
table and the phone-opened incidents already use (medium x medium = 3, the store's
default). A client's own matrix can be given as data and may use 1 .. 5.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


class PriorityError(ValueError):
    """An unknown level or an invalid matrix (one line)."""


class Level(enum.IntEnum):
    """Impact or urgency: 1 is the most severe."""

    HIGH = 1
    MEDIUM = 2
    LOW = 3


class Priority(enum.IntEnum):
    CRITICAL = 1
    HIGH = 2
    MEDIUM = 3
    LOW = 4
    PLANNING = 5


#: Accepted spellings of a level, beside 1, 2, 3.
LEVEL_NAMES: Mapping[str, Level] = {
    "high": Level.HIGH,
    "medium": Level.MEDIUM,
    "low": Level.LOW,
}
MIN_PRIORITY = int(Priority.CRITICAL)
MAX_PRIORITY = int(Priority.PLANNING)


def parse_level(value: int | str, what: str = "level") -> Level:
    """1/2/3, "1"/"2"/"3" or high/medium/low (any case) -> Level; else PriorityError."""
    if isinstance(value, bool):
        raise PriorityError(f"{what} {value!r}: expected 1..3 or high/medium/low")
    if isinstance(value, int):
        if value in (1, 2, 3):
            return Level(value)
        raise PriorityError(f"{what} {value}: expected 1..3 or high/medium/low")
    text = str(value).strip().lower()
    if text in LEVEL_NAMES:
        return LEVEL_NAMES[text]
    if text in ("1", "2", "3"):
        return Level(int(text))
    raise PriorityError(f"{what} {value!r}: expected 1..3 or high/medium/low")


@dataclass(frozen=True)
class PriorityMatrix:
    """`cells[impact - 1][urgency - 1]` is the priority; rows are impact, columns urgency.

    Valid matrices are 3 x 3, hold whole numbers 1..5, and never make a ticket more
    urgent because its impact or its urgency is lower (each row and column is
    non-decreasing). Construction validates; errors are PriorityError, one line.
    """

    cells: tuple[tuple[int, ...], ...]

    def __post_init__(self) -> None:
        _validate(self.cells)

    def priority(self, impact: int | str, urgency: int | str) -> int:
        i = parse_level(impact, "impact")
        u = parse_level(urgency, "urgency")
        return self.cells[i - 1][u - 1]

    @classmethod
    def from_data(cls, data: object) -> PriorityMatrix:
        """A matrix from configuration data, in either form::

        [[1, 2, 3], [2, 3, 4], [3, 4, 4]]               # rows = impact high..low
        {"high": {"high": 1, "medium": 2, "low": 3}, ...}  # impact -> urgency -> p
        """
        if isinstance(data, Mapping):
            return cls(_cells_from_mapping(data))
        if isinstance(data, (str, bytes)) or not isinstance(data, Sequence):
            raise PriorityError("priority matrix: expected a list of 3 rows or a mapping")
        rows: list[tuple[int, ...]] = []
        for n, row in enumerate(data, start=1):
            if isinstance(row, (str, bytes)) or not isinstance(row, Sequence):
                raise PriorityError(f"priority matrix: row {n} is not a list")
            rows.append(tuple(_cell(value, f"row {n}") for value in row))
        return cls(tuple(rows))

    def to_data(self) -> list[list[int]]:
        return [list(row) for row in self.cells]


def priority_of(impact: int | str, urgency: int | str, matrix: PriorityMatrix | None = None) -> int:
    """The priority of an impact x urgency pair on `matrix` (the default one if not given)."""
    return (matrix or DEFAULT_MATRIX).priority(impact, urgency)


def _cells_from_mapping(data: Mapping[object, object]) -> tuple[tuple[int, ...], ...]:
    rows: dict[Level, dict[Level, int]] = {}
    for impact_key, row in data.items():
        impact = parse_level(_key(impact_key), "priority matrix: impact")
        if impact in rows:
            raise PriorityError(f"priority matrix: impact {impact.name.lower()} given twice")
        if not isinstance(row, Mapping):
            raise PriorityError(f"priority matrix: impact {impact_key} must map urgencies")
        cells: dict[Level, int] = {}
        for urgency_key, value in row.items():
            urgency = parse_level(_key(urgency_key), "priority matrix: urgency")
            if urgency in cells:
                raise PriorityError(
                    f"priority matrix: impact {impact.name.lower()}, urgency "
                    f"{urgency.name.lower()} given twice"
                )
            cells[urgency] = _cell(
                value, f"impact {impact.name.lower()}, urgency {urgency.name.lower()}"
            )
        rows[impact] = cells
    for impact in Level:
        if impact not in rows:
            raise PriorityError(f"priority matrix: impact {impact.name.lower()} missing")
        for urgency in Level:
            if urgency not in rows[impact]:
                raise PriorityError(
                    f"priority matrix: impact {impact.name.lower()}, urgency "
                    f"{urgency.name.lower()} missing"
                )
    return tuple(tuple(rows[i][u] for u in Level) for i in Level)


def _key(value: object) -> int | str:
    return value if isinstance(value, int) else str(value)


def _cell(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PriorityError(f"priority matrix: {where}: {value!r} is not a whole number")
    return value


def _validate(cells: tuple[tuple[int, ...], ...]) -> None:
    if len(cells) != 3:
        raise PriorityError(f"priority matrix: {len(cells)} rows, expected 3 (impact 1..3)")
    for n, row in enumerate(cells, start=1):
        if len(row) != 3:
            raise PriorityError(
                f"priority matrix: row {n} has {len(row)} cells, expected 3 (urgency 1..3)"
            )
        for m, value in enumerate(row, start=1):
            _cell(value, f"row {n}, column {m}")
            if not MIN_PRIORITY <= value <= MAX_PRIORITY:
                raise PriorityError(
                    f"priority matrix: row {n}, column {m}: {value} is outside "
                    f"{MIN_PRIORITY}..{MAX_PRIORITY}"
                )
    for n in range(3):
        for m in range(3):
            if m and cells[n][m] < cells[n][m - 1]:
                raise PriorityError(
                    f"priority matrix: row {n + 1}: lower urgency gives a higher priority "
                    f"({cells[n][m - 1]} then {cells[n][m]})"
                )
            if n and cells[n][m] < cells[n - 1][m]:
                raise PriorityError(
                    f"priority matrix: column {m + 1}: lower impact gives a higher priority "
                    f"({cells[n - 1][m]} then {cells[n][m]})"
                )


DEFAULT_MATRIX = PriorityMatrix(
    (
        (1, 2, 3),  # impact high:   urgency high, medium, low
        (2, 3, 4),  # impact medium
        (3, 4, 4),  # impact low
    )
)
