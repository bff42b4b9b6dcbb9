"""``copy_out("out", dest)`` puts the folder's contents in ``dest``, not ``dest/out``."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from reprobox import errors
from reprobox.sandbox.transfer import tar_error, unpack


def _tar(*entries: tuple[str, bytes | None, str | None]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data, link in entries:
            info = tarfile.TarInfo(name)
            if link is not None:
                info.type, info.linkname = tarfile.LNKTYPE, link
                tar.addfile(info)
            elif data is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_a_folder_lands_as_its_contents(tmp_path: Path) -> None:
    data = _tar(
        ("out", None, None),
        ("out/answer.txt", b"42\n", None),
        ("out/sub", None, None),
        ("out/sub/x", b"x", None),
        ("out/same", None, "out/answer.txt"),
    )
    names = unpack(data, tmp_path / "out", contents_of="out")
    assert (tmp_path / "out" / "answer.txt").read_text() == "42\n"
    assert (tmp_path / "out" / "sub" / "x").read_text() == "x"
    assert (tmp_path / "out" / "same").read_text() == "42\n"
    assert not (tmp_path / "out" / "out").exists()
    assert sorted(names) == ["answer.txt", "same", "sub", "sub/x"]


def test_a_file_lands_under_its_own_name(tmp_path: Path) -> None:
    unpack(_tar(("answer.txt", b"42\n", None)), tmp_path / "d", contents_of="answer.txt")
    assert (tmp_path / "d" / "answer.txt").read_text() == "42\n"


def test_unsafe_members_are_still_refused_after_renaming(tmp_path: Path) -> None:
    data = _tar(("out", None, None), ("out/../../evil", b"x", None))
    with pytest.raises(errors.SandboxError, match="refused"):
        unpack(data, tmp_path / "d", contents_of="out")
    assert not (tmp_path / "evil").exists()


def test_tar_error_names_the_cause_not_the_summary() -> None:
    stderr = (
        b"tar: missing: Cannot stat: No such file or directory\n"
        b"tar: Exiting with failure status due to previous errors\n"
    )
    assert tar_error(stderr) == "tar: missing: Cannot stat: No such file or directory"
    assert tar_error(b"") == "no error message"
