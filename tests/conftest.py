"""Shared fixtures: a real engine, the offline base image, and guaranteed cleanup.

Tests marked ``e2e`` need a container engine. When ``REPROBOX_REQUIRE_ENGINE=1`` (CI and
``scripts/test`` set it) a missing engine is a failure, never a silent skip.

Engines: every e2e test runs once per engine named in ``REPROBOX_TEST_ENGINES`` (comma
separated: ``docker``, ``podman``, ``podman-rootless``; default ``docker``) that its
``@pytest.mark.engines(...)`` marker allows (unmarked: Docker only). The session-scoped
``engine_name`` parameter points ``DOCKER_HOST`` at that engine while its tests run, so the
tests' own code, ``reprobox_cli`` and the ``docker`` CLI witness all talk to it unchanged;
tests are grouped by engine, each engine's set-up runs once.

Everything a test creates on the engine carries the label ``io.reprobox.test-session=<id>``
(use :func:`test_labels` / the ``labels`` fixture); at the end of the session every container,
image and volume with this session's label is removed, whatever happened. Tests also remove what
they create themselves in ``finally`` blocks; the sweep is the safety net.
"""

from __future__ import annotations

import os
import pwd
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
ROOTLESS_USER = os.environ.get("REPROBOX_ROOTLESS_USER", "reprobox-rootless")
ALL_ENGINES = ("docker", "podman", "podman-rootless")
ROOTFUL_ENGINES = ("docker", "podman")
_OUTER_DOCKER_HOST = os.environ.get("DOCKER_HOST")


def engine_url(name: str) -> str:
    """The API socket of a test engine (Docker: ``DOCKER_HOST`` as given, or the default)."""
    if name == "docker":
        return _OUTER_DOCKER_HOST or "unix:///var/run/docker.sock"
    from reprobox.engine.flavour import PODMAN_URL, rootless_podman_url

    if name == "podman":
        return PODMAN_URL
    if name == "podman-rootless":
        try:
            return rootless_podman_url(pwd.getpwnam(ROOTLESS_USER).pw_uid)
        except KeyError:
            return rootless_podman_url(-1)
    raise ValueError(f"unknown test engine {name!r} (one of {', '.join(ALL_ENGINES)})")


def selected_engines() -> tuple[str, ...]:
    names = os.environ.get("REPROBOX_TEST_ENGINES", "docker")
    chosen = tuple(n.strip() for n in names.split(",") if n.strip())
    for name in chosen:
        engine_url(name)  # an unknown name fails here, at collection
    return chosen


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


def run_rm(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """``run --rm ARGS`` with the engine's own CLI, which reports the box's exit code: against
    Podman's socket every docker CLI (20.10 and 28.2 alike) reports 0 for a ``run --rm``
    (Podman 4.3's wait for a removed container answers 0), so there the Podman client
    (``podman --remote``, rootful or rootless alike) runs it."""
    url = os.environ.get("DOCKER_HOST", "")
    podman = url in (engine_url("podman"), engine_url("podman-rootless"))
    cli = ["podman", "--remote", "--url", url] if podman else ["docker"]
    return subprocess.run(
        [*cli, "run", "--rm", *args], capture_output=True, text=True, timeout=timeout, check=False
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


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "engines(*names): the test engines this e2e test runs on (default: docker only)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "engine_name" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("engines")
        allowed = marker.args if marker else ("docker",)
        names = [n for n in selected_engines() if n in allowed]
        metafunc.parametrize("engine_name", names, indirect=True, scope="session")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """All of one engine's tests together (after pytest's own ordering, which it keeps
    within each engine), so each engine is set up once and module fixtures never span two."""
    order = {name: i for i, name in enumerate(selected_engines())}

    def rank(item: pytest.Item) -> int:
        callspec = getattr(item, "callspec", None)
        name = callspec.params.get("engine_name") if callspec else None
        return -1 if name is None else order.get(name, len(order))

    items.sort(key=rank)


@pytest.fixture(scope="session")
def engine_name(request: pytest.FixtureRequest) -> Iterator[str]:
    """The engine under test; ``DOCKER_HOST`` points at it while its tests run."""
    name = str(getattr(request, "param", "docker"))
    before = os.environ.get("DOCKER_HOST")
    os.environ["DOCKER_HOST"] = engine_url(name)
    try:
        yield name
    finally:
        if before is None:
            os.environ.pop("DOCKER_HOST", None)
        else:
            os.environ["DOCKER_HOST"] = before


@pytest.fixture(scope="session")
def engine_available(engine_name: str) -> bool:
    up = _engine_up()
    if not up:
        where = engine_url(engine_name)
        setup = (
            "scripts/setup-engine"
            + {
                "docker": "",
                "podman": " --engine podman",
                "podman-rootless": f" --engine podman --rootless {ROOTLESS_USER}",
            }[engine_name]
        )
        if os.environ.get("REPROBOX_REQUIRE_ENGINE") == "1":
            pytest.fail(
                f"no {engine_name} engine answers at {where}, and REPROBOX_REQUIRE_ENGINE=1: "
                f"run {setup} first"
            )
        pytest.skip(f"no {engine_name} engine answers at {where} (run {setup})")
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
    before = os.environ.get("DOCKER_HOST")
    try:
        for name in selected_engines():
            os.environ["DOCKER_HOST"] = engine_url(name)
            if _engine_up():
                _sweep()
    finally:
        if before is None:
            os.environ.pop("DOCKER_HOST", None)
        else:
            os.environ["DOCKER_HOST"] = before


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
