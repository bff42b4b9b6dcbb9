"""Fixtures for end-to-end tests that create reprobox boxes and images."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import docker_cli
from tests.e2e.test_sandbox_support import case_labels, remove_leftovers


@pytest.fixture(autouse=True)
def _on_the_engine_under_test(engine_name: str) -> str:
    """Every e2e test runs once per allowed test engine (see tests/conftest.py)."""
    return engine_name


@pytest.fixture
def labels() -> Iterator[dict[str, str]]:
    """Labels unique to one test case; any container still carrying them is removed after it."""
    made = case_labels()
    try:
        yield made
    finally:
        remove_leftovers(made)


@pytest.fixture
def made() -> Iterator[list[str]]:
    """Images a test made (tags and IDs), removed afterwards whatever happened (reproducible
    images cannot carry the test-session label: it would change their ID)."""
    refs: list[str] = []
    yield refs
    for ref in refs:
        docker_cli("rmi", "-f", ref, check=False)
