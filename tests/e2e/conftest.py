"""Fixtures for end-to-end tests that create reprobox boxes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.test_sandbox_support import case_labels, remove_leftovers


@pytest.fixture
def labels() -> Iterator[dict[str, str]]:
    """Labels unique to one test case; any container still carrying them is removed after it."""
    made = case_labels()
    try:
        yield made
    finally:
        remove_leftovers(made)
