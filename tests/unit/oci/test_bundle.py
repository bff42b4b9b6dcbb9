"""A box's bundle folder on disk, and whether a runtime still keeps state for a box."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reprobox.oci import runtime as rt


@pytest.fixture(autouse=True)
def run_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("REPROBOX_RUN_DIR", str(tmp_path))
    return tmp_path


def owner() -> rt.Owner:
    return rt.Owner(1, 2, "abc", "runc", "disabled")


def test_a_bundle_holds_its_config_and_owner_and_is_removed_whole(run_dir: Path) -> None:
    made = rt.Bundle.create("rbx-1", '{"ociVersion":"1.0.2"}', owner())
    assert made.path == run_dir / "boxes" / "rbx-1"
    assert made.path.stat().st_mode & 0o777 == 0o700
    assert json.loads((made.path / "config.json").read_text()) == {"ociVersion": "1.0.2"}
    assert json.loads((made.path / "owner").read_text())["image"] == "abc"
    made.pid_file.write_text("42")
    assert made.started()
    made.remove()
    assert not made.path.exists()
    made.remove()  # idempotent


def test_a_bundle_with_anything_else_in_it_is_removed_too(run_dir: Path) -> None:
    made = rt.Bundle.create("rbx-2", "{}", owner())
    (made.path / "runtime-extra" / "deep").mkdir(parents=True)
    (made.path / "runtime-extra" / "deep" / "file").write_text("x")
    made.remove()
    assert not made.path.exists()


def test_has_state_finds_any_state_entry_naming_the_box(run_dir: Path) -> None:
    runc = rt.Runtime("runc", "/usr/sbin/runc")
    assert not rt.has_state(runc, "rbx-3")  # no state folder at all
    runc.state_root.mkdir()
    (runc.state_root / "rbx-other").mkdir()
    assert not rt.has_state(runc, "rbx-3")
    (runc.state_root / "rbx-3").mkdir()
    assert rt.has_state(runc, "rbx-3")
    runsc = rt.Runtime("runsc", "/usr/bin/runsc")
    runsc.state_root.mkdir()
    (runsc.state_root / "rbx-4_sandbox:rbx-4.state").write_text("")
    assert rt.has_state(runsc, "rbx-4") and not rt.has_state(runsc, "rbx-3")


def test_cgroup_files_are_in_the_v1_controller_folder_else_the_v2_tree(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    root = tmp_path / "cg"
    (root / "memory").mkdir(parents=True)
    monkeypatch.setattr(rt, "CGROUP_ROOT", root)
    assert rt.cgroup_file("rbx-5", "memory", "x") == root / "memory/reprobox/rbx-5/x"
    assert rt.cgroup_file("rbx-5", "cpuacct", "y") == root / "reprobox/rbx-5/y"
    (root / "memory/reprobox/rbx-5").mkdir(parents=True)
    (root / "memory/reprobox/rbx-5/memory.max_usage_in_bytes").write_text("4096\n")
    (root / "memory/reprobox/rbx-5/memory.oom_control").write_text("under_oom 0\noom_kill 3\n")
    assert rt.usage("rbx-5") == rt.Usage(4096, None)
    assert rt.oom_kills("rbx-5") == 3
    assert rt.usage("rbx-5", reset_peak=True).peak_memory_bytes == 0
    assert rt.oom_kills("rbx-6") == 0
