"""Shared fixtures: a real engine, the offline base image, and guaranteed cleanup.

Tests marked ``e2e`` need a Docker engine. When ``REPROBOX_REQUIRE_ENGINE=1`` (CI and
``scripts/test`` set it) a missing engine is a failure, never a silent skip.

Everything a test creates on the engine carries the label ``io.reprobox.test-session=<id>``
(use :func:`test_labels` / the ``labels`` fixture); at the end of the session every container,
image and volume with this session's label is removed, whatever happened. Tests also remove what
they create themselves in ``finally`` blocks; the sweep is the safety net.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TASKS_APP = ROOT / "tasks-app"
SHARED = ROOT.parent / "shared"
BASE_TAG = os.environ.get("REPROBOX_TEST_BASE", "reprobox/python:3.11-bookworm")
TEST_SESSION = uuid.uuid4().hex[:10]
TEST_LABEL = "io.reprobox.test-session"


def test_labels() -> dict[str, str]:
    return {TEST_LABEL: TEST_SESSION}


def docker_cli(
    *args: str, check: bool = True, timeout: float = 600, input: bytes | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the docker CLI (tests use it as an independent witness of what reprobox did)."""
    return subprocess.run(
        ["docker", *args],
        capture_output=True,
        text=True,
        check=check,
        timeout=timeout,
        input=input.decode() if input else None,
    )


def _engine_up() -> bool:
    try:
        return (
            docker_cli(
                "version", "--format", "{{.Server.Version}}", check=False, timeout=20
            ).returncode
            == 0
        )
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.fixture(scope="session")
def engine_available() -> bool:
    up = _engine_up()
    if not up:
        if os.environ.get("REPROBOX_REQUIRE_ENGINE") == "1":
            pytest.fail(
                "no Docker engine answers, and REPROBOX_REQUIRE_ENGINE=1: run "
                "scripts/setup-engine first"
            )
        pytest.skip("no Docker engine answers (run scripts/setup-engine)")
    return up


@pytest.fixture(scope="session")
def engine(engine_available: bool) -> Iterator[object]:
    from reprobox.engine import connect

    eng = connect()
    yield eng
    eng.close()


@pytest.fixture(scope="session")
def base_image(engine: object) -> str:
    """The offline base image, built once if the engine lacks it."""
    from reprobox.base import BaseSpec, build_base
    from reprobox.engine import Engine

    assert isinstance(engine, Engine)
    if engine.image(BASE_TAG) is None:
        if os.geteuid() != 0:
            pytest.skip(f"{BASE_TAG} is missing and building it needs root")
        build_base(engine, BaseSpec(tag=BASE_TAG))
    return BASE_TAG


@pytest.fixture
def labels() -> dict[str, str]:
    return test_labels()


@pytest.fixture
def unique() -> str:
    """A short unique suffix for names of images, volumes and containers."""
    return f"{TEST_SESSION}-{uuid.uuid4().hex[:6]}"


def _sweep() -> None:
    flt = f"label={TEST_LABEL}={TEST_SESSION}"
    for kind, list_args, rm_args in (
        ("container", ["ps", "-aq", "--filter", flt], ["rm", "-f"]),
        ("volume", ["volume", "ls", "-q", "--filter", flt], ["volume", "rm", "-f"]),
        ("image", ["images", "-q", "--filter", flt], ["rmi", "-f"]),
    ):
        found = docker_cli(*list_args, check=False).stdout.split()
        if found:
            docker_cli(*rm_args, *sorted(set(found)), check=False)
            sys.stderr.write(f"\n[conftest] swept {len(found)} leftover {kind}(s)\n")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _engine_up():
        _sweep()


def reprobox_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 600, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the installed ``reprobox`` command as a user would (a real subprocess)."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "reprobox", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        cwd=cwd,
        check=False,
    )
