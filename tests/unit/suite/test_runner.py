"""Test-command detection, base-image resolution from Dockerfiles, and project packing."""

from __future__ import annotations

from pathlib import Path

import pytest

from reprobox import errors
from reprobox.suite.boxrun import stage
from reprobox.suite.runner import PYTEST, UNITTEST, detect_command


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("pyproject.toml", "[tool.pytest.ini_options]\naddopts = '-q'\n"),
        ("pytest.ini", "[pytest]\n"),
        ("setup.cfg", "[tool:pytest]\ntestpaths = tests\n"),
        ("tox.ini", "[pytest]\n"),
        ("conftest.py", ""),
    ],
)
def test_pytest_when_configured(tmp_path: Path, name: str, text: str) -> None:
    (tmp_path / "test_x.py").write_text("")
    (tmp_path / name).write_text(text)
    assert detect_command(tmp_path) == PYTEST


def test_unittest_for_a_stdlib_suite(tmp_path: Path) -> None:
    (tmp_path / "test_x.py").write_text("import unittest\n")
    (tmp_path / "pyproject.toml").write_text("[tool.ruff]\nline-length = 100\n")
    (tmp_path / "setup.cfg").write_text("[metadata]\nname = x\n")
    assert detect_command(tmp_path) == UNITTEST


def test_no_suite_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(errors.UsageError, match="no test suite"):
        detect_command(tmp_path)


def test_staging_skips_caches_and_vcs(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "__pycache__").mkdir(parents=True)
    (project / "__pycache__" / "m.cpython-311.pyc").write_bytes(b"x")
    (project / ".git").mkdir()
    (project / ".git" / "HEAD").write_text("x")
    (project / "pkg").mkdir()
    (project / "pkg" / "m.py").write_text("x = 1\n")
    (project / "pkg" / "old.pyc").write_bytes(b"x")
    (project / "test_m.py").write_text("")
    staged = tmp_path / "staged"
    staged.mkdir()
    assert stage(project, staged) == 3
    found = sorted(p.relative_to(staged).as_posix() for p in staged.rglob("*"))
    assert found == ["pkg", "pkg/m.py", "test_m.py"]


def test_buildah_command_has_no_network_never_pulls_and_fixes_the_time(tmp_path: Path) -> None:
    from reprobox.build.buildah import bud_command

    cmd = bud_command("buildah", tmp_path, "Dockerfile", {"A": "1"}, {"l": "v"}, 42, tmp_path / "i")
    joined = " ".join(cmd)
    assert "--network none" in joined and "--pull-never" in joined
    assert "--timestamp 42" in joined and "--build-arg A=1" in joined and "--label l=v" in joined
    assert cmd[-1] == str(tmp_path)
