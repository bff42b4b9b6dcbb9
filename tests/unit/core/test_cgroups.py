"""Per-box cgroups under a delegated parent (engine/cgroups.py), on a fake cgroup tree: which
hierarchies count, the limits written, removal and the orphan sweep. The real kernel is
attacked in tests/e2e/test_rootless_limits.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reprobox import errors
from reprobox.engine import cgroups
from reprobox.sandbox import boxinit

UID = os.geteuid()
PARENT = cgroups.parent_name(UID)


def _tree(root: Path) -> Path:
    """v1 memory, cpu, cpuset, pids; cpuacct a co-mount's symlink; the unified (v2) one."""
    files = {
        "memory": ("memory.limit_in_bytes", "memory.memsw.limit_in_bytes"),
        "cpu": ("cpu.cfs_quota_us", "cpu.cfs_period_us"),
        "cpuset": ("cpuset.cpus", "cpuset.mems"),
        "pids": ("pids.max",),
    }
    for name, names in files.items():
        for folder in (root / name, root / name / PARENT):
            folder.mkdir(parents=True)
            (folder / "cgroup.procs").write_text("")
        for f in names:
            (root / name / PARENT / f).write_text("")
    (root / "cpuset" / PARENT / "cpuset.cpus").write_text("0-1\n")
    (root / "cpuset" / PARENT / "cpuset.mems").write_text("0\n")
    (root / "cpuacct").symlink_to(root / "cpu")
    (root / "unified").mkdir()
    (root / "unified" / "cgroup.procs").write_text("")
    (root / "unified" / "cgroup.controllers").write_text("")
    return root


class _FakeMkdir:
    """A real cgroup folder comes with its controller's files and goes with them (rmdir):
    so does this fake one."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        real, real_rmdir = Path.mkdir, Path.rmdir

        def rmdir(self: Path) -> None:
            for f in self.iterdir():
                if f.is_file():
                    f.unlink()
            real_rmdir(self)

        def mkdir(self: Path, *args: object, **kwargs: object) -> None:
            real(self, *args, **kwargs)  # type: ignore[arg-type]
            for f in self.parent.iterdir():
                if f.is_file():
                    (self / f.name).write_text("")

        monkeypatch.setattr(Path, "mkdir", mkdir)
        monkeypatch.setattr(Path, "rmdir", rmdir)


def test_only_real_v1_hierarchies_count_and_all_must_be_delegated(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    names = [h.name for h in cgroups.v1_hierarchies(root)]
    assert names == ["cpu", "cpuset", "memory", "pids"]
    assert cgroups.delegated(UID, root)
    (root / "pids" / PARENT / "pids.max").unlink()
    (root / "pids" / PARENT / "cgroup.procs").unlink()
    (root / "pids" / PARENT).rmdir()
    assert not cgroups.delegated(UID, root), "one controller missing: runc would fail"
    assert not cgroups.delegated(UID, tmp_path / "absent")


def test_a_box_gets_its_limits_in_every_controller_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _tree(tmp_path)
    _FakeMkdir(monkeypatch)
    limits = cgroups.BoxLimits(64 << 20, 64 << 20, 50, 250_000_000)
    parent = cgroups.create(UID, limits, root)
    box = parent.split("/")[-1]
    assert parent == f"/{PARENT}/{box}" and box.startswith(f"box-{os.getpid()}-")
    read = lambda c, f: (root / c / PARENT / box / f).read_text()  # noqa: E731
    assert read("memory", "memory.limit_in_bytes") == str(64 << 20)
    assert read("memory", "memory.memsw.limit_in_bytes") == str(64 << 20)
    assert read("pids", "pids.max") == "50"
    assert (read("cpu", "cpu.cfs_quota_us"), read("cpu", "cpu.cfs_period_us")) == (
        "25000",
        "100000",
    )
    assert read("cpuset", "cpuset.cpus") == "0-1\n", "copied from the parent"
    assert list(cgroups.orphans(UID, root)) == [], "its owner (this process) is alive"
    assert cgroups.remove(parent, root)
    assert not any((root / c / PARENT / box).exists() for c in ("memory", "cpu", "pids"))


def test_a_failed_creation_removes_what_it_made_and_says_how_to_fix_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _tree(tmp_path)
    (root / "pids" / PARENT / "cgroup.procs").unlink()
    (root / "pids" / PARENT / "pids.max").unlink()
    (root / "pids" / PARENT).rmdir()
    _FakeMkdir(monkeypatch)
    with pytest.raises(errors.Unsupported, match="cannot make the box's cgroup") as e:
        cgroups.create(UID, cgroups.BoxLimits(None, None, 10, None), root)
    assert "scripts/setup-engine --engine podman --rootless" in (e.value.hint or "")
    assert list((root / "memory" / PARENT).glob("box-*")) == []


def test_gc_removes_the_folders_of_dead_owners_only(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    dead, alive = "box-999999999-aa", f"box-{os.getpid()}-bb"
    for h in cgroups.v1_hierarchies(root):
        (h / PARENT / dead / "libpod-x").mkdir(parents=True)
        (h / PARENT / alive).mkdir()
    assert cgroups.sweep(UID, root) == (f"/{PARENT}/{dead}",)
    assert not (root / "memory" / PARENT / dead).exists()
    assert (root / "memory" / PARENT / alive).exists()


def test_boxinit_gets_the_file_size_and_open_file_limits() -> None:
    command = boxinit.one_shot(["true"], 1.0)
    limited = boxinit.with_ulimits(command, (("fsize", 1024), ("nofile", 64)))
    end = command.index("--")
    assert limited == (*command[:end], "-f", "1024", "-n", "64", *command[end:])
    keeper = boxinit.keeper()
    assert boxinit.with_ulimits(keeper, (("nofile", 8),)) == (*keeper, "-n", "8")
    assert boxinit.with_ulimits(command, ()) == command


def test_a_session_command_wrapper_sets_both_limits_first() -> None:
    from reprobox.sandbox.keeper import WRAPPER, wrapper
    from reprobox.sandbox.policy import Policy

    script = wrapper(Policy(file_size_bytes=1 << 20, open_files=64))
    assert script.startswith("ulimit -f 2048 && ulimit -n 64 || {")
    assert "exit 125" in script and script.endswith(WRAPPER)
    assert wrapper(Policy(file_size_bytes=None, open_files=None)) == WRAPPER
