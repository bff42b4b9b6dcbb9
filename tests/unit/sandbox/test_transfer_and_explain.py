"""Safe tar handling for copy_out, and --explain's wording, without an engine."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from reprobox import errors
from reprobox.sandbox import transfer
from reprobox.sandbox.explain import explain
from reprobox.sandbox.policy import Policy
from reprobox.sandbox.spec import Mount


def _tar(*members: tarfile.TarInfo, payload: bytes = b"hi") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for member in members:
            if member.isfile():
                member.size = len(payload)
                tar.addfile(member, io.BytesIO(payload))
            else:
                tar.addfile(member)
    return buffer.getvalue()


def _member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    return info


@pytest.mark.parametrize(
    ("member", "reason"),
    [
        (_member("/etc/evil"), "absolute"),
        (_member("../evil"), ".."),
        (_member("a/../../evil"), ".."),
        (_member("l", tarfile.SYMTYPE, "/etc/passwd"), "absolute"),
        (_member("d/l", tarfile.SYMTYPE, "../../x"), "escaping"),
        (_member("h", tarfile.LNKTYPE, "../x"), "escaping"),
        (_member("dev", tarfile.CHRTYPE), "special"),
        (_member("fifo", tarfile.FIFOTYPE), "special"),
    ],
)
def test_unsafe_members_refuse_the_whole_archive(
    tmp_path: Path, member: tarfile.TarInfo, reason: str
) -> None:
    data = _tar(_member("fine.txt"), member)
    with pytest.raises(errors.SandboxError, match=reason):
        transfer.unpack(data, tmp_path / "dest")
    assert not (tmp_path / "dest" / "fine.txt").exists()
    assert not (tmp_path / "evil").exists()


def test_safe_archive_extracts_inside_dest(tmp_path: Path) -> None:
    data = _tar(
        _member("d", tarfile.DIRTYPE), _member("d/f.txt"), _member("d/l", tarfile.SYMTYPE, "f.txt")
    )
    names = transfer.unpack(data, tmp_path / "out")
    assert names == ["d", "d/f.txt", "d/l"]
    assert (tmp_path / "out/d/l").read_text() == "hi"


def test_pack_sets_owner_and_uses_the_basename(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src/a.py").write_text("print(1)")
    with tarfile.open(fileobj=io.BytesIO(transfer.pack(tmp_path / "src", 65534, 65534))) as tar:
        members = tar.getmembers()
    assert [m.name for m in members] == ["src", "src/a.py"]
    assert {(m.uid, m.gid) for m in members} == {(65534, 65534)}


def test_pack_refuses_a_missing_path(tmp_path: Path) -> None:
    with pytest.raises(errors.UsageError):
        transfer.pack(tmp_path / "nope", None, None)


def test_explain_names_the_shared_kernel_and_what_mounts_expose(tmp_path: Path) -> None:
    text = explain(Policy(), [Mount(tmp_path, writable=True)])
    assert "shares the host's kernel" in text
    assert "networking disabled" in text
    assert f"{tmp_path}: mounted, so the command can read AND WRITE" in text


def test_explain_warns_that_host_network_defeats_isolation() -> None:
    text = explain(Policy(network="host"))
    assert "--network host shares the host's network" in text
    assert "127.0.0.1" in text


def test_explain_with_gvisor_says_user_space_kernel() -> None:
    assert "user-space kernel, which" in explain(Policy(runtime="runsc"))
