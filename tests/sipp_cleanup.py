"""Fixtures every test that runs SIPp phones gets."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.integration.harness import RUNNING


@pytest.fixture(autouse=True)
async def _stop_leftover_sipp() -> AsyncIterator[None]:
    """A test that fails half-way leaves its SIPp phones running: stop them here, so they
    neither hold ports nor surface as unraisable warnings in a later test."""
    yield
    while RUNNING:
        await RUNNING.pop().stop()
