"""``reprobox test``: run a project's test suite in a clean throwaway container.

The image is ``--image`` or the final stage's base image from the Dockerfile (``ARG``
defaults and ``--build-arg`` applied); it must already be on the engine. The project is
copied in (never bind-mounted), so nothing is written back to the working tree. The command
is the one given after ``--``, else pytest when the project configures it, else
``python -m unittest``. The exit code is the suite's. The container is started by
:mod:`reprobox.suite.boxrun`, the one swappable piece.
"""

from __future__ import annotations

import configparser
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from reprobox import errors
from reprobox.dockerfile import bases
from reprobox.engine import Engine
from reprobox.suite.boxrun import BoxRun, run_in_box

Output = Callable[[bytes], None]
Progress = Callable[[str], None]
UNITTEST = ("python", "-m", "unittest")
PYTEST = ("python", "-m", "pytest", "-p", "no:cacheprovider")
MISSING_HINT = (
    "reprobox never pulls: build a local base with `reprobox base`, then pass "
    "--build-arg BASE_IMAGE=reprobox/python:3.11-bookworm, or choose an image with --image"
)


@dataclass(frozen=True)
class TestSpec:
    """Which project to test, in which image, with which command."""

    __test__ = False  # not a pytest test class

    project: Path
    image: str | None = None
    build_args: dict[str, str] = field(default_factory=dict)
    network: bool = False
    command: tuple[str, ...] = ()
    dockerfile: str = "Dockerfile"
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TestResult:
    """How the suite ended."""

    __test__ = False

    exit_code: int
    image: str
    command: tuple[str, ...]
    seconds: float


def uses_pytest(project: Path) -> bool:
    """Whether the project configures pytest (pyproject, pytest.ini, setup.cfg, tox.ini,
    conftest.py)."""
    if (project / "pytest.ini").is_file() or (project / "conftest.py").is_file():
        return True
    pyproject = project / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            data = {}
        if "pytest" in data.get("tool", {}):
            return True
    return any(
        _ini_has(project / name, section)
        for name, section in (("setup.cfg", "tool:pytest"), ("tox.ini", "pytest"))
    )


def _ini_has(path: Path, section: str) -> bool:
    if not path.is_file():
        return False
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):
        return False
    return parser.has_section(section)


def detect_command(project: Path) -> tuple[str, ...]:
    """The test command for ``project``; a usage error when there is no suite to find."""
    if uses_pytest(project):
        return PYTEST
    if any(project.glob("test*.py")) or any(project.glob("tests/test*.py")):
        return UNITTEST
    raise errors.UsageError(
        f"no test suite found in {project} (no test*.py, no pytest configuration)",
        "give the command after --, e.g. reprobox test DIR -- python -m unittest discover",
    )


def resolve_image(engine: Engine, spec: TestSpec) -> str:
    """``--image``, else the final stage's base image; it must be on the engine."""
    image = spec.image
    if image is None:
        dockerfile = spec.project / spec.dockerfile
        if not dockerfile.is_file():
            raise errors.UsageError(
                f"no {spec.dockerfile} in {spec.project} to take the base image from",
                "choose the image with --image",
            )
        image = bases.final_base(bases.read(dockerfile, spec.build_args))
        if image is None:
            raise errors.UsageError(
                f"the final stage of {dockerfile} starts FROM scratch: there is no Python in it",
                "choose the image with --image",
            )
    if engine.image(image) is None:
        raise errors.ImageNotFound(f"image {image} is not on this engine", MISSING_HINT)
    return image


def check_runner(engine: Engine, image: str, command: tuple[str, ...], spec: TestSpec) -> None:
    """With pytest, check the image has it (there is no network to install it without
    ``--network``)."""
    if command != PYTEST:
        return
    probe = BoxRun(image, ("python", "-c", "import pytest"), labels=spec.labels)
    if run_in_box(engine, probe, lambda _: None) != 0:
        raise errors.TestRunnerMissing(
            f"the project is configured for pytest, but image {image} has no pytest"
            + ("" if spec.network else " and the network is off"),
            "choose an image with pytest installed (--image), or give the command after --",
        )


def run_tests(
    engine: Engine, spec: TestSpec, output: Output, progress: Progress = lambda _: None
) -> TestResult:
    """Run the suite; the result's exit code is the suite's own."""
    command = spec.command or detect_command(spec.project)
    image = resolve_image(engine, spec)
    check_runner(engine, image, command, spec)
    started = time.monotonic()
    progress(f"copying {spec.project} into a fresh box from {image}; running: {' '.join(command)}")
    run = BoxRun(image, command, spec.project, spec.network, spec.labels)
    code = run_in_box(engine, run, output)
    return TestResult(code, image, command, time.monotonic() - started)
