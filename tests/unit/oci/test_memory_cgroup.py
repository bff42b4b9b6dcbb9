"""The memory cgroup reprobox makes for a runsc box (so its OOM counter outlives runsc)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reprobox import errors
from reprobox.oci import runtime as rt

SOLE = "cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0\n"
SHARED = "cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory,hugetlb 0 0\n"


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(rt, "CGROUP_ROOT", tmp_path / "cg")
    monkeypatch.setattr(rt, "MOUNTS", tmp_path / "mounts")
    return tmp_path


def mounts(root: Path, text: str) -> None:
    (root / "mounts").write_text(text.replace("/sys/fs/cgroup", str(root / "cg")))


def test_the_limits_are_written_and_the_folder_removed_afterwards(root: Path) -> None:
    mounts(root, SOLE)
    folder = root / "cg/memory/reprobox/rbx-1"
    folder.parent.mkdir(parents=True)
    original_mkdir = Path.mkdir

    def mkdir(self: Path, *args: object, **kwargs: object) -> None:
        original_mkdir(self, *args, **kwargs)  # type: ignore[arg-type]
        (self / "memory.memsw.limit_in_bytes").write_text("max")  # as the kernel makes it

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Path, "mkdir", mkdir)
        assert rt.memory_cgroup_made("rbx-1", {"limit": 100, "swap": 100})
    assert (folder / "memory.limit_in_bytes").read_text() == "100"
    assert (folder / "memory.memsw.limit_in_bytes").read_text() == "100"
    for name in ("memory.limit_in_bytes", "memory.memsw.limit_in_bytes"):
        (folder / name).unlink()  # a real cgroup folder is removed with its files
    rt.remove_memory_cgroup("rbx-1")
    assert not folder.exists()


def test_nothing_is_made_when_other_controllers_share_the_folder_or_no_limit(root: Path) -> None:
    mounts(root, SHARED)
    assert not rt.memory_cgroup_made("rbx-2", {"limit": 100})
    mounts(root, SOLE)
    assert not rt.memory_cgroup_made("rbx-2", None)
    assert not (root / "cg/memory/reprobox/rbx-2").exists()


def test_a_limit_that_cannot_be_written_removes_the_folder_and_raises(root: Path) -> None:
    mounts(root, SOLE)
    (root / "cg/memory/reprobox").mkdir(parents=True)
    with pytest.raises(errors.SandboxError, match="memory limit"):
        rt.memory_cgroup_made("rbx-3", {"swap": 100})  # no limit: the write cannot happen
    assert not (root / "cg/memory/reprobox/rbx-3").exists()
