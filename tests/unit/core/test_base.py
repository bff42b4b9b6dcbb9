"""The base-image builder's checks and pruning (logic only; e2e builds a real image)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reprobox import errors
from reprobox.base import BaseSpec, build, build_base, default_tag
from reprobox.engine.core import ImageSummary


class FakeEngine:
    def __init__(self, existing: ImageSummary | None) -> None:
        self.existing = existing
        self.imports = 0

    def image(self, ref: str) -> ImageSummary | None:
        return self.existing

    def import_rootfs(self, *args: object) -> str:
        self.imports += 1
        raise AssertionError("must not import")


def test_default_tag_names_python_and_suite() -> None:
    assert default_tag("bookworm") == "reprobox/python:3.11-bookworm"
    assert default_tag("trixie") == "reprobox/python:3.13-trixie"
    assert default_tag("sid") is None
    assert default_tag("sid", "3.14") == "reprobox/python:3.14-sid"


def test_existing_tag_is_reused_without_building(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build.os, "geteuid", lambda: 1000)  # would fail if it tried to build
    summary = ImageSummary("sha256:" + "b" * 64, ("t",), 5, {"io.reprobox.base.python": "3.11"})
    engine = FakeEngine(summary)
    result = build_base(engine, BaseSpec())  # type: ignore[arg-type]
    assert result.reused and result.image_id == summary.id and result.python_version == "3.11"
    assert engine.imports == 0


def test_without_root_fails_with_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build.os, "geteuid", lambda: 1000)
    with pytest.raises(errors.BaseImageError) as info:
        build_base(FakeEngine(None), BaseSpec(rebuild=True))  # type: ignore[arg-type]
    assert "root" in info.value.message and info.value.hint == "run it as root: sudo reprobox base"


def test_without_debootstrap_fails_with_the_install_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(build.os, "geteuid", lambda: 0)
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(errors.ToolMissing) as info:
        build_base(FakeEngine(None), BaseSpec())  # type: ignore[arg-type]
    assert "debootstrap is not installed (Debian package debootstrap)" in info.value.message
    assert "apt-get install debootstrap" in (info.value.hint or "")


def test_prune_empties_lists_caches_logs_but_keeps_folders(tmp_path: Path) -> None:
    for rel in (
        "var/lib/apt/lists/deb_Packages",
        "var/cache/apt/archives/x.deb",
        "var/log/apt/history.log",
        "usr/share/doc/p/copyright",
        "usr/bin/python3",
        "etc/machine-id",
        "var/cache/debconf/config.dat-old",
    ):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    build._prune(tmp_path, lambda _: None)
    assert (tmp_path / "var/lib/apt/lists").is_dir()
    assert not any((tmp_path / "var/lib/apt/lists").iterdir())
    assert not any((tmp_path / "var/cache/apt").iterdir())
    assert not any((tmp_path / "var/log").iterdir())
    assert not (tmp_path / "var/cache/debconf/config.dat-old").exists()
    assert (tmp_path / "usr/bin/python3").read_text() == "x"
    assert (tmp_path / "etc/machine-id").read_text() == ""
