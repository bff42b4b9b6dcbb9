"""The box supervisor's pipe protocol, with a stand-in runtime (``true``) and a real bash."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from reprobox.oci import runtime as rt

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")


def supervisor(tmp_path: Path, name: str) -> rt.Supervisor:
    bundle = rt.Bundle(name, tmp_path / name)
    bundle.path.mkdir()
    return rt.Supervisor(rt.Runtime("true", "/bin/true"), bundle, "disabled", None)


def test_done_leaves_the_bundle_and_a_closed_pipe_removes_it(tmp_path: Path) -> None:
    done = supervisor(tmp_path, "rbx-done")
    done.release()
    done._proc.wait(timeout=10)
    assert (tmp_path / "rbx-done").is_dir()
    orphaned = supervisor(tmp_path, "rbx-orphan")
    rt.os.close(orphaned._write)  # what the owner's death does to the pipe
    orphaned._proc.wait(timeout=10)
    assert not (tmp_path / "rbx-orphan").exists()


def test_a_second_release_never_closes_a_reused_descriptor(tmp_path: Path) -> None:
    first = supervisor(tmp_path, "rbx-first")
    first.release()
    second = supervisor(tmp_path, "rbx-second")  # likely reuses the first's descriptor number
    first.release()
    with pytest.raises(subprocess.TimeoutExpired):
        second._proc.wait(timeout=0.5)  # still waiting on its owner: its pipe is open
    second.release()
    second._proc.wait(timeout=10)
    assert (tmp_path / "rbx-second").is_dir()
