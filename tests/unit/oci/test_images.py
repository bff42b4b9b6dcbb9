"""Image references, archive IDs and the cache's bookkeeping (unpacking itself is e2e)."""

from __future__ import annotations

import contextlib
import io
import json
import tarfile
import threading
import time
from pathlib import Path

import pytest

from reprobox import errors
from reprobox.oci import images
from reprobox.oci.images import ImageRef, ImageStore

ID = "sha256:" + "ab" * 32


def tar_with(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_refs_name_archives_or_engine_images() -> None:
    assert ImageRef.parse("docker-archive:/x/y.tar") == ImageRef("docker-archive", "/x/y.tar")
    assert ImageRef.parse("oci-archive:img.tar").kind == "oci-archive"
    assert ImageRef.parse("reprobox/python:3.11-bookworm") == ImageRef(
        "engine", "reprobox/python:3.11-bookworm"
    )
    with pytest.raises(errors.UsageError, match="needs a path"):
        ImageRef.parse("docker-archive:")


def test_docker_archive_id_comes_from_its_manifest(tmp_path: Path) -> None:
    manifest = [{"Config": "ab" * 32 + ".json", "Layers": []}]
    archive = tar_with(tmp_path / "a.tar", {"manifest.json": json.dumps(manifest).encode()})
    assert images.archive_image_id(ImageRef("docker-archive", str(archive))) == ID


def test_oci_archive_id_is_the_config_digest(tmp_path: Path) -> None:
    manifest = json.dumps({"config": {"digest": ID}}).encode()
    index = json.dumps({"manifests": [{"digest": "sha256:" + "cd" * 32}]}).encode()
    archive = tar_with(
        tmp_path / "o.tar", {"index.json": index, "blobs/sha256/" + "cd" * 32: manifest}
    )
    assert images.archive_image_id(ImageRef("oci-archive", str(archive))) == ID


def test_a_missing_or_unreadable_archive_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(errors.UsageError, match="does not exist"):
        images.archive_image_id(ImageRef("docker-archive", str(tmp_path / "none.tar")))
    (tmp_path / "junk.tar").write_bytes(b"not a tar")
    with pytest.raises(errors.UsageError, match="not a readable docker-archive"):
        images.archive_image_id(ImageRef("docker-archive", str(tmp_path / "junk.tar")))


def test_cache_root_follows_the_override_and_the_user(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPROBOX_CACHE_DIR", "/somewhere")
    assert images.cache_root() == Path("/somewhere")
    monkeypatch.delenv("REPROBOX_CACHE_DIR")
    monkeypatch.setattr(images.os, "geteuid", lambda: 0)
    assert images.cache_root() == Path("/var/cache/reprobox/oci")
    monkeypatch.setattr(images.os, "geteuid", lambda: 1000)
    monkeypatch.setenv("XDG_CACHE_HOME", "/home/u/.cache")
    assert images.cache_root() == Path("/home/u/.cache/reprobox/oci")


def fake_unpack(calls: list[str]) -> object:
    def unpack(self: ImageStore, image_id: str, ref: ImageRef, source: str) -> None:
        calls.append(image_id)
        time.sleep(0.2)  # long enough for a second caller to arrive while we hold the lock
        entry = self.images / image_id.removeprefix("sha256:")
        (entry / "rootfs").mkdir(parents=True)
        meta = images._meta(image_id, {"Env": ["A=1"], "User": "app"}, source, 10)
        (entry / "image.json").write_text(json.dumps(meta))

    return unpack


def test_two_callers_unpack_an_image_once(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls: list[str] = []
    monkeypatch.setattr(ImageStore, "_unpack", fake_unpack(calls))
    ref = ImageRef("docker-archive", "x.tar")
    got = []

    def ensure() -> None:
        got.append(ImageStore(tmp_path).ensure(ID, lambda: contextlib.nullcontext(ref)))

    threads = [threading.Thread(target=ensure) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == [ID]
    assert got[0].entry == got[1].entry and got[0].env == (("A", "1"),) and got[0].user == "app"


def test_entries_and_remove(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(ImageStore, "_unpack", fake_unpack([]))
    store = ImageStore(tmp_path)
    ref = ImageRef("docker-archive", "x.tar")
    made = store.ensure(ID, lambda: contextlib.nullcontext(ref))
    assert [e.entry for e in store.entries()] == [made.entry] and made.rootfs.is_dir()
    store.remove(made)
    assert store.entries() == [] and not made.entry.exists()
