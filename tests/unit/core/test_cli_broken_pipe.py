"""A reader that leaves early (``reprobox rules | head -1``): reprobox stops quietly with 141,
as a tool killed by SIGPIPE does; a broken pipe that is not stdout's stays an error (exit 3)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from reprobox.cli import common
from reprobox.exitcodes import ExitCode

MANY_FINDINGS = "FROM python:3.12\n" + "".join(f"RUN pip install pkg{i}\n" for i in range(4000))


def to_closed_pipe(*argv: str) -> subprocess.CompletedProcess[bytes]:
    """Run ``argv`` with stdout a pipe whose reader has already gone."""
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run(argv, stdout=write, stderr=subprocess.PIPE, timeout=120, check=False)
    finally:
        os.close(write)


def reprobox(*args: str) -> list[str]:
    return [sys.executable, "-m", "reprobox", *args]


def test_exit_code_is_sigpipes() -> None:
    assert int(ExitCode.READER_GONE) == 141


@pytest.mark.parametrize("args", [("rules",), ("rules", "RBX1102"), ("lint", "{file}")])
def test_closed_pipe_exits_141_without_a_word(tmp_path: Path, args: tuple[str, ...]) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM python:3.12\nRUN pip install flask\n")
    argv = reprobox(*(arg.format(file=dockerfile) for arg in args))
    done = to_closed_pipe(*argv)
    assert (done.returncode, done.stderr) == (141, b"")
    control = subprocess.run(argv, capture_output=True, timeout=120, check=False)
    assert control.returncode in (0, 1) and control.stdout  # a reader: all of it, as ever


def test_head_leaving_early_in_a_shell_pipeline(tmp_path: Path) -> None:
    """``reprobox lint | head -1``: 4,000 findings are far more than a pipe holds, so the
    write fails once head has its line and exits. (Without PYTHONUNBUFFERED: with it, stdout
    has no buffer and CPython drops the rest of a write the closing reader cut short without
    an error, so the command exits as if it had written everything.)"""
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(MANY_FINDINGS)
    script = '"$@" | head -1; echo "status=${PIPESTATUS[0]}"'
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    done = subprocess.run(
        ["bash", "-c", script, "bash", *reprobox("lint", str(dockerfile))],
        capture_output=True, text=True, timeout=120, check=False, env=env,
    )  # fmt: skip
    lines = done.stdout.splitlines()
    assert lines[0] == str(dockerfile) and len(lines) == 2, done.stdout  # the header line
    assert lines[1] == "status=141" and done.stderr == ""
    whole = subprocess.run(reprobox("lint", str(dockerfile)), capture_output=True, timeout=120)
    assert whole.returncode == 1 and len(whole.stdout) > 1_000_000  # the control: no room


def test_rich_output_to_a_closed_pipe_exits_141() -> None:
    code = "from reprobox.cli import common\ncommon.out.print('x' * 100_000)\n"
    done = to_closed_pipe(sys.executable, "-c", code)
    assert (done.returncode, done.stderr) == (141, b"")  # rich's own handler would exit 1


@click.command()
@common.guarded
def breaks() -> None:
    raise BrokenPipeError(32, "Broken pipe")


def test_a_broken_pipe_that_is_not_stdouts_stays_an_error() -> None:
    result = CliRunner().invoke(breaks, [])
    assert result.exit_code == 3
    assert result.stderr.startswith("error: Broken pipe")


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    read, write = os.pipe()
    yield read, write
    for fd in (read, write):
        with contextlib.suppress(OSError):
            os.close(fd)


def test_stdout_gone_only_when_the_reader_closed(
    pipe: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    read, write = pipe
    monkeypatch.setattr(sys, "stdout", os.fdopen(write, "w", closefd=False))
    assert not common.stdout_gone()  # someone reads: not gone
    os.close(read)
    assert common.stdout_gone()
    monkeypatch.setattr(sys, "stdout", None)
    assert not common.stdout_gone()
