from __future__ import annotations

import pytest

from tests.unit.acd.desk import Desk


@pytest.fixture
def desk() -> Desk:
    """An ACD with the helpdesk queue at its default settings and no agents yet."""
    return Desk()
