"""``reprobox gc`` and the oci image cache: unused images go, a size bound holds."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reprobox.oci.images import ImageRef, ImageStore, archive_image_id
from tests.e2e.oci_support import member, oci_archive, require_oci_tools

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]


def cached(store: ImageStore, archive: Path) -> str:
    ref = ImageRef("oci-archive", str(archive))
    image_id = archive_image_id(ref)
    store.ensure(image_id, lambda: contextlib.nullcontext(ref))
    return image_id


def gc(cache: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "REPROBOX_CACHE_DIR": str(cache)}
    host = list(args[:2]) if args[:1] == ("--host",) else []
    cli = [sys.executable, "-m", "reprobox", *host, "gc", *args[len(host) :]]
    return subprocess.run(cli, capture_output=True, text=True, timeout=120, cwd=REPO, env=env)


def test_gc_removes_images_whose_archive_is_gone_and_keeps_the_cache_under_its_bound(
    engine: object, tmp_path: Path
) -> None:
    require_oci_tools()
    store = ImageStore(tmp_path / "cache")
    archives = [
        oci_archive(tmp_path / f"{n}.tar", [[member(f"f{n}", bytes(20000 * (n + 1)))]])
        for n in range(3)
    ]
    ids = [cached(store, a) for a in archives]
    store.lookup(ids[2])  # the most recently used
    archives[0].unlink()
    first = gc(tmp_path / "cache")
    assert first.returncode == 0, first.stderr
    assert "1 cached oci image(s)" in first.stdout
    assert {e.image_id for e in store.entries()} == {ids[1], ids[2]}
    # A bound that holds one image: the least recently used one goes.
    bounded = gc(tmp_path / "cache", "--cache-max", "90k")
    assert bounded.returncode == 0, bounded.stderr
    assert [e.image_id for e in store.entries()] == [ids[2]]
    bad = gc(tmp_path / "cache", "--cache-max", "lots")
    assert bad.returncode == 2 and "not a size: 'lots'" in bad.stderr


def test_gc_cleans_the_oci_backend_even_when_the_engine_is_down(tmp_path: Path) -> None:
    require_oci_tools()
    store = ImageStore(tmp_path / "cache")
    archive = oci_archive(tmp_path / "a.tar", [[member("f", b"x")]])
    cached(store, archive)
    archive.unlink()
    down = gc(tmp_path / "cache", "--host", "unix:///run/reprobox-test-no-engine.sock")
    assert "removed 0 oci box(es), 1 cached oci image(s)" in down.stdout
    assert down.returncode == 3 and down.stderr.startswith("error: ")
    assert store.entries() == []
