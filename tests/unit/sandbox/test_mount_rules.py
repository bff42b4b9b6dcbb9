"""``Mount`` as documented, and writable mounts the box's user could not write to."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reprobox import errors


def test_mount_as_documented_in_the_readme(tmp_path: Path) -> None:
    from reprobox import Mount  # exported at the top level, as the docs use it

    mount = Mount(str(tmp_path), target="/data", writable=True)
    assert mount.source == tmp_path
    bind = mount.bind()
    assert (bind.source, bind.target, bind.read_only) == (str(tmp_path), "/data", False)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    made = tmp_path / "shared"
    made.mkdir(mode=0o755)
    os.chown(made, 0, 0)
    made.chmod(0o755)
    return made


@pytest.mark.skipif(os.geteuid() != 0, reason="sets a folder's owner")
def test_a_writable_mount_the_user_cannot_write_is_refused(folder: Path) -> None:
    from reprobox.sandbox.spec import Mount

    with pytest.raises(errors.UsageError, match="uid 65534, which cannot write") as caught:
        Mount(folder, writable=True).check_writable("65534:65534")
    assert "chown 65534" in (caught.value.hint or "")
    Mount(folder, writable=False).check_writable("65534:65534")  # read-only: fine
    Mount(folder, writable=True).check_writable("0:0")  # the owner may write


@pytest.mark.skipif(os.geteuid() != 0, reason="sets a folder's owner")
@pytest.mark.parametrize(("owner", "mode"), [(65534, 0o755), (0, 0o777), (0, 0o1777)])
def test_a_writable_mount_the_user_can_write_is_accepted(
    folder: Path, owner: int, mode: int
) -> None:
    from reprobox.sandbox.spec import Mount

    os.chown(folder, owner, owner)
    folder.chmod(mode)
    Mount(folder, writable=True).check_writable("65534:65534")


@pytest.mark.skipif(os.geteuid() != 0, reason="sets a folder's owner")
def test_group_write_counts_for_the_group(folder: Path) -> None:
    from reprobox.sandbox.spec import Mount

    os.chown(folder, 0, 65534)
    folder.chmod(0o775)
    Mount(folder, writable=True).check_writable("65534:65534")
    with pytest.raises(errors.UsageError):
        Mount(folder, writable=True).check_writable("65534:1000")
