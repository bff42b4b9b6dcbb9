"""The owner's supervisor and its pipe protocol, with a stand-in runtime (``true``) and a real
bash."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from reprobox import errors
from reprobox.oci import runtime as rt

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
STAND_IN = rt.Runtime("true", "/bin/true")


def bundle(tmp_path: Path, name: str) -> rt.Bundle:
    made = rt.Bundle(name, tmp_path / name)
    made.path.mkdir()
    return made


def add(watcher: rt.Watcher, box: rt.Bundle, deadline: str = "-") -> None:
    assert watcher.send("add", box.box_id, deadline, str(box.path), *STAND_IN.argv())


def gone(path: Path, seconds: float = 10) -> bool:
    until = time.monotonic() + seconds
    while path.exists() and time.monotonic() < until:
        time.sleep(0.02)
    return not path.exists()


def test_a_closed_pipe_ends_the_boxes_still_registered_and_only_those(tmp_path: Path) -> None:
    watcher = rt.Watcher()
    done, orphan = bundle(tmp_path, "rbx-done"), bundle(tmp_path, "rbx-orphan")
    add(watcher, done)
    add(watcher, orphan)
    assert watcher.send("done", done.box_id)
    watcher.close()  # what the owner's death does to the pipe
    assert watcher.proc.wait(timeout=10) == 0
    assert not orphan.path.exists()
    assert done.path.is_dir()
    assert not watcher.send("done", done.box_id)  # closed: nothing more is sent


def test_a_deadline_ends_its_box_while_the_owner_lives(tmp_path: Path) -> None:
    watcher = rt.Watcher()
    late, forever = bundle(tmp_path, "rbx-late"), bundle(tmp_path, "rbx-forever")
    add(watcher, forever)
    add(watcher, late, f"{(time.time() + 0.3) * 1000:.0f}")
    assert gone(late.path)
    assert watcher.proc.poll() is None and forever.path.is_dir()
    watcher.close()
    assert gone(forever.path)


def test_the_process_supervisor_registers_and_releases_boxes(tmp_path: Path) -> None:
    kept = bundle(tmp_path, "rbx-kept")
    supervisor = rt.Supervisor(STAND_IN, kept, "disabled", None)
    supervisor.release()
    supervisor.release()  # idempotent
    timed = bundle(tmp_path, "rbx-timed")
    rt.Supervisor(STAND_IN, timed, "disabled", -rt.SUPERVISOR_GRACE_S)  # deadline: now
    assert gone(timed.path)
    assert kept.path.is_dir()


def test_a_dead_supervisor_is_replaced_for_the_next_box(tmp_path: Path) -> None:
    rt.supervise("done", "rbx-none")
    assert rt._watcher is not None
    first = rt._watcher
    first.proc.kill()
    first.proc.wait(timeout=10)
    late = bundle(tmp_path, "rbx-after")
    rt.Supervisor(STAND_IN, late, "disabled", -rt.SUPERVISOR_GRACE_S)
    assert rt._watcher is not first
    assert gone(late.path)


def test_a_tab_in_a_field_is_refused(tmp_path: Path) -> None:
    with pytest.raises(errors.SandboxError, match="tab or newline"):
        rt.supervise("add", "rbx-x", "-", str(tmp_path / "a\tb"))
