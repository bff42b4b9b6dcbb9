"""The sealed in-memory copy runc is started from (see :func:`reprobox.oci.runtime.sealed_copy`)."""

from __future__ import annotations

import errno
import fcntl
import os
import subprocess
from pathlib import Path

import pytest

from reprobox.oci import runtime as rt

F_GET_SEALS = 1034


def program(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "prog"
    path.write_text(f"#!/bin/sh\necho {text}\n")
    path.chmod(0o755)
    return path


def test_the_copy_is_sealed_as_runc_requires_and_runs_like_the_binary(tmp_path: Path) -> None:
    path = program(tmp_path, "one")
    copy = rt.sealed_copy(str(path))
    assert copy.startswith(f"/proc/{os.getpid()}/fd/")
    fd = int(copy.rsplit("/", 1)[1])
    assert fcntl.fcntl(fd, F_GET_SEALS) == rt.RUNC_SEALS
    assert os.fstat(fd).st_mode & 0o777 == 0o500
    writer = os.open(copy, os.O_WRONLY)
    try:
        with pytest.raises(OSError) as refused:
            os.pwrite(writer, b"x", 0)
    finally:
        os.close(writer)
    assert refused.value.errno == errno.EPERM
    done = subprocess.run(["prog"], executable=copy, capture_output=True, text=True)
    assert done.stdout == "one\n"
    assert rt.sealed_copy(str(path)) == copy  # made once


def test_a_changed_binary_gets_a_new_copy_and_a_missing_one_its_path(tmp_path: Path) -> None:
    path = program(tmp_path, "one")
    first = rt.sealed_copy(str(path))
    path.unlink()
    program(tmp_path, "two, longer")
    second = rt.sealed_copy(str(path))
    assert second != first
    assert subprocess.run(["p"], executable=second, capture_output=True, text=True).stdout == (
        "two, longer\n"
    )
    assert rt.sealed_copy(str(tmp_path / "absent")) == str(tmp_path / "absent")


def test_spawn_falls_back_to_the_binary_when_the_copy_is_busy(tmp_path: Path) -> None:
    path = program(tmp_path, "fallback")
    runtime = rt.Runtime("runc", str(path))
    holder = os.open(runtime.launcher, os.O_WRONLY)  # what a box with CAP_DAC_OVERRIDE can do
    try:
        proc = rt.spawn(runtime, ["runc"], stdout=subprocess.PIPE)
        assert proc.communicate(timeout=10)[0] == b"fallback\n"
    finally:
        os.close(holder)
    assert rt.Runtime("runsc", str(path)).launcher == str(path)
