"""``build`` and ``test`` read a Dockerfile as ``docker build`` does (the shared model).

The Dockerfile is issue 8's example: a quoted ARG default, an ``AS Builder`` alias and a
``FROM builder`` in another case. ``docker build`` is the control that the file is valid.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import docker_cli, reprobox_cli

pytestmark = pytest.mark.e2e

_ID = re.compile(r"sha256:[0-9a-f]{64}")
PASSING = """\
import unittest


class Built(unittest.TestCase):
    def test_runs_in_the_final_stage_base(self):
        self.assertTrue(True)
"""


def issue_example(base: str) -> str:
    return f'ARG BASE="{base}"\nFROM ${{BASE}} AS Builder\nRUN echo built > /built\nFROM builder\n'


@pytest.fixture
def project(tmp_path: Path, base_image: str) -> Path:
    (tmp_path / "Dockerfile").write_text(issue_example(base_image))
    (tmp_path / "test_built.py").write_text(PASSING)
    return tmp_path


def test_docker_build_and_reprobox_build_both_build_it(
    project: Path, unique: str, made: list[str]
) -> None:
    control = docker_cli("build", "-q", "--network", "none", str(project), check=False)
    made.extend(control.stdout.split())
    assert control.returncode == 0, control.stderr
    tag = f"reprobox-test/model:{unique}"
    made.append(tag)
    done = reprobox_cli("build", str(project), "--tag", tag)
    assert done.returncode == 0, done.stderr
    found = _ID.search(done.stdout)
    assert found, done.stdout
    made.append(found.group(0))
    run = docker_cli("run", "--rm", "--network", "none", tag, "cat", "/built", check=False)
    assert run.stdout == "built\n", run.stderr


def test_reprobox_test_runs_in_the_resolved_base(project: Path, base_image: str) -> None:
    done = reprobox_cli("test", str(project))
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    assert f"({base_image})" in done.stderr
    assert "Ran 1 test" in done.stdout + done.stderr


def test_an_arg_without_value_is_one_usage_line(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("ARG BASE\nFROM ${BASE} AS Builder\nFROM builder\n")
    (tmp_path / "test_x.py").write_text("")
    for command in ("build", "test"):
        done = reprobox_cli(command, str(tmp_path))
        assert done.returncode == 2, done.stderr
        assert "line 2: FROM ${BASE} has no value" in done.stderr
        assert "--build-arg BASE=IMAGE" in done.stderr
        assert "Traceback" not in done.stderr
