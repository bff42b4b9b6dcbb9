"""Per-box cgroups under a delegated parent: limits for rootless Podman on cgroup v1.

Rootless Podman on cgroup v1 discards a box's memory, pids and CPU limits. What works: root
delegates a parent ``reprobox-rootless-<uid>`` in every mounted v1 controller to the user
(``scripts/setup-engine --engine podman --rootless USER``); reprobox, as that user, makes a
child ``box-<pid>-<hex>`` in every controller under it, writes the box's limits there and
passes it as the box's cgroup parent. Podman puts the box (``libpod-<id>``) and its
``conmon`` inside, so the limits hold hierarchically. The folders are removed with the box;
``reprobox gc`` removes those whose owner process is dead.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from reprobox import errors

ROOT = Path("/sys/fs/cgroup")
CPU_PERIOD_US = 100_000
_LOG = logging.getLogger("reprobox")


def parent_name(uid: int) -> str:
    """The delegated parent of ``uid``'s boxes, in every v1 controller."""
    return f"reprobox-rootless-{uid}"


def setup_hint(uid: int) -> str:
    return f"as root: scripts/setup-engine --engine podman --rootless $(id -nu {uid})"


def v1_hierarchies(root: Path = ROOT) -> tuple[Path, ...]:
    """Every mounted v1 hierarchy (not the unified one, not a co-mount's symlink)."""
    if not root.is_dir():
        return ()
    return tuple(
        sorted(
            p
            for p in root.iterdir()
            if not p.is_symlink()
            and (p / "cgroup.procs").exists()
            and not (p / "cgroup.controllers").exists()
        )
    )


def delegated(uid: int, root: Path = ROOT) -> bool:
    """Whether ``uid`` owns a delegated parent in every v1 hierarchy."""
    hierarchies = v1_hierarchies(root)
    if not hierarchies:
        return False
    for h in hierarchies:
        try:
            if (h / parent_name(uid)).stat().st_uid != uid:
                return False
        except OSError:
            return False
    return True


@dataclass(frozen=True)
class BoxLimits:
    memory_bytes: int | None
    memory_swap_bytes: int | None  # -1: unlimited swap
    pids: int | None
    nano_cpus: int | None


def create(uid: int, limits: BoxLimits, root: Path = ROOT) -> str:
    """Make a box's folder in every v1 hierarchy under ``uid``'s delegated parent and write
    ``limits`` there; returns the cgroup parent to give the engine (``/<parent>/<box>``).
    Raises :class:`reprobox.errors.Unsupported` (after removing what it made) on failure."""
    name = f"box-{os.getpid()}-{secrets.token_hex(4)}"
    relative = f"{parent_name(uid)}/{name}"
    try:
        for h in v1_hierarchies(root):
            (h / relative).mkdir()
            _limit(h / relative, limits)
            _give(h / relative, uid)
    except OSError as exc:
        remove(relative, root)
        raise errors.Unsupported(
            f"cannot make the box's cgroup {relative}: {exc.strerror or exc}", setup_hint(uid)
        ) from exc
    return f"/{relative}"


def _give(folder: Path, uid: int) -> None:
    """Root made ``folder`` (reprobox run by root against the user's engine): the engine's
    user must own it to put the box's own cgroups inside."""
    if os.geteuid() == uid:
        return
    gid = folder.parent.stat().st_gid
    for path in (folder, *folder.iterdir()):
        os.chown(path, uid, gid)


def _limit(folder: Path, limits: BoxLimits) -> None:
    if (folder / "cpuset.cpus").exists():
        for f in ("cpuset.cpus", "cpuset.mems"):
            (folder / f).write_text((folder.parent / f).read_text())
    if limits.memory_bytes is not None and (folder / "memory.limit_in_bytes").exists():
        (folder / "memory.limit_in_bytes").write_text(str(limits.memory_bytes))
        memsw = folder / "memory.memsw.limit_in_bytes"
        if memsw.exists() and limits.memory_swap_bytes not in (None, -1):
            memsw.write_text(str(limits.memory_swap_bytes))
    if limits.pids is not None and (folder / "pids.max").exists():
        (folder / "pids.max").write_text(str(limits.pids) if limits.pids > 0 else "max")
    if limits.nano_cpus is not None and (folder / "cpu.cfs_quota_us").exists():
        (folder / "cpu.cfs_period_us").write_text(str(CPU_PERIOD_US))
        quota = max(1000, limits.nano_cpus * CPU_PERIOD_US // 1_000_000_000)
        (folder / "cpu.cfs_quota_us").write_text(str(quota))


def remove(parent: str, root: Path = ROOT, wait_s: float = 2.0) -> bool:
    """Remove a box's folders (and what the engine left inside) in every hierarchy; whether
    all are gone. A folder with processes still in it is retried for ``wait_s``."""
    relative = parent.strip("/")
    deadline = time.monotonic() + wait_s
    for h in v1_hierarchies(root):
        _release_monitors(h / relative)
    while True:
        left = [h / relative for h in v1_hierarchies(root) if not _rmtree(h / relative)]
        if not left:
            return True
        if time.monotonic() >= deadline:
            _LOG.warning("could not remove cgroup %s (remove it with 'reprobox gc')", left[0])
            return False
        time.sleep(0.05)


def _release_monitors(folder: Path) -> None:
    """Move what is left in the box's ``conmon`` folder up to the delegated parent: Podman's
    monitors of a removed box's execs linger there (``--exit-delay 300``) and would keep the
    folder busy for minutes. Only ``conmon``'s: the box's own processes (``libpod-<id>``)
    never leave their limited cgroup."""
    procs = folder / "conmon" / "cgroup.procs"
    with contextlib.suppress(OSError):
        for pid in procs.read_text().split():
            with contextlib.suppress(OSError):
                (folder.parent / "cgroup.procs").write_text(pid)


def _rmtree(folder: Path) -> bool:
    """rmdir ``folder`` bottom-up (a cgroup's files go with it); whether it is gone."""
    if not folder.is_dir():
        return True
    for child in folder.iterdir():
        if child.is_dir():
            _rmtree(child)
    try:
        folder.rmdir()
    except FileNotFoundError:
        return True
    except OSError as exc:
        if exc.errno in (errno.EBUSY, errno.ENOTEMPTY):
            return False
        raise
    return True


def orphans(uid: int, root: Path = ROOT) -> Iterator[str]:
    """The cgroup parents of ``uid``'s boxes whose owner process is dead."""
    seen: set[str] = set()
    for h in v1_hierarchies(root):
        with contextlib.suppress(OSError):
            for child in (h / parent_name(uid)).iterdir():
                if child.is_dir() and child.name.startswith("box-") and child.name not in seen:
                    seen.add(child.name)
                    if not _alive(child.name):
                        yield f"/{parent_name(uid)}/{child.name}"


def _alive(name: str) -> bool:
    pid = name.split("-")[1]
    return pid.isdigit() and Path(f"/proc/{pid}").exists()


def sweep(uid: int, root: Path = ROOT) -> tuple[str, ...]:
    """Remove the folders of ``uid``'s boxes whose owner is dead; the ones removed."""
    return tuple(p for p in list(orphans(uid, root)) if remove(p, root, wait_s=0))
