"""Files into and out of a box as tar streams, extracted safely on the host.

The engine's own copy API writes beneath tmpfs mounts rather than into them, so copies go
through ``tar`` inside the box over an exec's stdin/stdout. Archives coming *out* of a box are
untrusted: members with absolute paths, ``..``, links that point outside the destination,
devices and FIFOs are refused before anything is written.
"""

from __future__ import annotations

import io
import posixpath
import tarfile
from pathlib import Path

from reprobox import errors
from reprobox.sandbox.backend import BoxAPI, H
from reprobox.sandbox.output import Capture

STDOUT, STDERR = 1, 2


def pack(path: Path, uid: int | None, gid: int | None) -> bytes:
    """A tar of ``path`` (file or folder) named by its basename, owned by ``uid:gid``."""
    if not path.exists():
        raise errors.UsageError(f"cannot copy {path} into the box: it does not exist")
    buffer = io.BytesIO()

    def owned(info: tarfile.TarInfo) -> tarfile.TarInfo:
        if uid is not None:
            info.uid, info.uname = uid, ""
        if gid is not None:
            info.gid, info.gname = gid, ""
        return info

    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.add(str(path), arcname=path.resolve().name, filter=owned)
    return buffer.getvalue()


def unsafe_reason(member: tarfile.TarInfo, dest: Path) -> str | None:
    """Why ``member`` must not be extracted into ``dest``, or ``None`` when it is safe."""
    name = member.name
    if name.startswith("/") or posixpath.isabs(name):
        return "absolute path"
    if ".." in Path(name).parts:
        return "'..' in path"
    if not (member.isfile() or member.isdir() or member.issym() or member.islnk()):
        return "special file (device, FIFO)"
    if member.issym() or member.islnk():
        return _link_reason(member, dest)
    return None


def _link_reason(member: tarfile.TarInfo, dest: Path) -> str | None:
    target = member.linkname
    if posixpath.isabs(target):
        return "link to an absolute path"
    base = posixpath.dirname(member.name) if member.issym() else ""
    resolved = posixpath.normpath(posixpath.join(base, target))
    if resolved == ".." or resolved.startswith("../"):
        return "link escaping the destination"
    return None


def unpack(data: bytes, dest: Path, contents_of: str | None = None) -> list[str]:
    """Extract a tar from the box into ``dest``; refuses the whole archive if any member is
    unsafe. With ``contents_of``, a folder of that name at the top of the archive is not
    recreated: its contents land directly in ``dest`` (as ``cp -r out/. dest`` does).
    Returns the extracted names."""
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        members = tar.getmembers()
        if contents_of is not None:
            members = _contents(members, contents_of)
        for member in members:
            reason = unsafe_reason(member, dest)
            if reason:
                raise errors.SandboxError(f"refused to copy out {member.name!r}: {reason}")
        tar.extractall(dest, members=members, filter="data")
    return [m.name for m in members]


def _contents(members: list[tarfile.TarInfo], folder: str) -> list[tarfile.TarInfo]:
    """``members`` without the top folder ``folder`` itself, the rest renamed relative to it
    (hard links too: their target is a member name). A file named ``folder`` stays."""
    top = folder.rstrip("/")
    if not any(m.name.rstrip("/") == top and m.isdir() for m in members):
        return members
    prefix = f"{top}/"
    kept = []
    for member in members:
        if member.name.rstrip("/") == top:
            continue
        member.name = member.name.removeprefix(prefix)
        if member.islnk():
            member.linkname = member.linkname.removeprefix(prefix)
        kept.append(member)
    return kept


def tar_error(stderr: bytes) -> str:
    """The last line of ``tar``'s stderr that says what went wrong (not its summary line)."""
    lines = stderr.decode("utf-8", "replace").strip().splitlines()
    causes = [line for line in lines if "Exiting with failure status" not in line]
    return (causes or lines or ["no error message"])[-1]


def copy_in_by_exec(api: BoxAPI[H], box: H, archive: bytes, dest: str, user: str) -> None:
    """Unpack ``archive`` (a tar) into ``dest`` inside the box with ``tar``, as ``user``."""
    run = api.exec(box, ["tar", "-x", "-f", "-", "-C", dest], user, stdin=archive)
    try:
        stderr = b"".join(data for stream, data in run.frames() if stream == STDERR)
    finally:
        run.close()
    if run.exit_status() != 0:
        raise errors.SandboxError(f"copy into {dest} failed: {tar_error(stderr)}")


def copy_out_by_exec(
    api: BoxAPI[H], box: H, folder: str, name: str, limit: int, user: str
) -> bytes:
    """A tar of ``name`` in ``folder`` inside the box (at most ``limit`` bytes), made by
    ``tar`` as ``user``."""
    path = f"{folder}/{name}"
    run = api.exec(box, ["tar", "-c", "-f", "-", "-C", folder, name], user)
    data, stderr = Capture(limit), Capture(64 * 1024)
    try:
        for stream, chunk in run.frames():
            (data if stream == STDOUT else stderr).feed(chunk)
    finally:
        run.close()
    if run.exit_status() != 0:
        raise errors.SandboxError(f"copy out of {path} failed: {tar_error(stderr.value())}")
    if data.truncated:
        raise errors.SandboxError(f"copy out of {path} failed: larger than {limit} bytes")
    return data.value()
