"""The oci backend's image cache with the real tools (skopeo, umoci): hostile archives too."""

from __future__ import annotations

import contextlib
import os
import stat
import tarfile
from pathlib import Path

import pytest

from reprobox import errors
from reprobox.oci.images import ImageRef, ImageStore, archive_image_id
from tests.e2e.oci_support import member, oci_archive, require_oci_tools

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def tools() -> None:
    require_oci_tools()


def unpack(store: ImageStore, archive: Path) -> Path:
    ref = ImageRef("oci-archive", str(archive))
    return store.ensure(archive_image_id(ref), lambda: contextlib.nullcontext(ref)).rootfs


def test_layers_are_applied_with_whiteouts(tmp_path: Path) -> None:
    first = [member("etc/", type=tarfile.DIRTYPE, mode=0o755), member("etc/a", b"a")]
    first.append(member("etc/b", b"b"))
    second = [member("etc/.wh.a"), member("etc/c", b"c")]
    rootfs = unpack(
        ImageStore(tmp_path / "cache"), oci_archive(tmp_path / "i.tar", [first, second])
    )
    assert sorted(os.listdir(rootfs / "etc")) == ["b", "c"]
    for point in ("proc", "sys", "dev", "tmp", "work"):
        assert (rootfs / point).is_dir()


def test_nothing_escapes_the_rootfs_and_devices_are_dropped(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    hostile = [
        member("../../outside/dotdot", b"x"),
        member(f"{outside}/absolute", b"x"),
        member("link", type=tarfile.SYMTYPE, linkname=str(outside)),
        member("link/through-symlink", b"x"),
        member("up", type=tarfile.SYMTYPE, linkname="../../../outside"),
        member("up/through-relative-symlink", b"x"),
        member("null", type=tarfile.CHRTYPE, devmajor=1, devminor=3),
    ]
    store = ImageStore(tmp_path / "cache")
    try:
        rootfs = unpack(store, oci_archive(tmp_path / "h.tar", [hostile]))
    except errors.SandboxError:
        rootfs = None  # refusing the archive is as good as containing it
    assert os.listdir(outside) == []
    if rootfs is not None:
        assert not (rootfs / "null").exists()
        for path in rootfs.rglob("*"):
            assert not stat.S_ISCHR(path.lstat().st_mode)


def test_a_layer_whose_digest_does_not_match_is_refused(tmp_path: Path) -> None:
    layer = [member("file", b"x" * 4096)]
    store = ImageStore(tmp_path / "cache")
    with pytest.raises(errors.SandboxError, match="unpacking the image failed"):
        unpack(store, oci_archive(tmp_path / "c.tar", [layer], corrupt=True))
    assert store.entries() == []
    assert not any((tmp_path / "cache" / "tmp").iterdir())
