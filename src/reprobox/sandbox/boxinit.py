"""The box's own init (``boxinit.c``): a deadline and an idle lifetime the box keeps itself.

Every box reprobox starts runs ``boxinit`` as its PID 1, bind-mounted read-only from the host
at :data:`MOUNT_PATH` (like the engine's own ``--init``). Its stdin is the owner's *lifeline*:
the owner attaches to it before the box starts and keeps the connection open; when the owner
dies (even by SIGKILL) the engine closes the box's stdin and boxinit ends the box at once. It
also ends the box at the command's deadline (timeout + :data:`GRACE_S`, a backstop to the
owner's own watchdog) and after :data:`IDLE_S` without a heartbeat from the owner. Nothing in
the box can stop it (see the C source). The container is created with AutoRemove, so when
boxinit exits the engine removes the box.

A one-shot or pool box's boxinit also has the last word on its stderr (:class:`LastWords`):
whether the kernel's OOM killer struck in the box, read from the box's own memory cgroup
counter after every other process of the box is dead, so the command cannot fake it. It is
how an OOM kill is known where the engine does not record one (Podman 4.3 on cgroup v1).

The binary is compiled once per source version with the host's C compiler into a cache
folder (``$REPROBOX_CACHE``, else :func:`reprobox.cachedir.default_root`, which a rootless
engine can read); ``REPROBOX_BOXINIT`` names a prebuilt one.
This module knows only the protocol and the binary: any backend that can bind-mount a file
and hold a pipe to PID 1's stdin can use it.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from reprobox import cachedir, errors

SOURCE = Path(__file__).with_name("boxinit.c")
MOUNT_PATH = "/.reprobox/init"
GRACE_S = 2.0  # the box's own deadline trails the owner's watchdog by this much
IDLE_S = 20.0  # an idle box whose owner stopped renewing it ends after this long
BEATS_PER_IDLE = 4  # a live owner renews its idle boxes this often per idle lifetime
HEARTBEAT = b"."
# boxinit -r's last bytes on stderr (see boxinit.c); both the same length.
RECORD_END = b"\0[reprobox-init end]\0"
RECORD_OOM = b"\0[reprobox-init oom]\0"
STDERR = 2
COMPILE_HINT = "install a C compiler and static libc: apt-get install gcc libc6-dev"


def _ms(seconds: float | None) -> int:
    return 0 if seconds is None else max(1, round(seconds * 1000))


def deadline_ms(timeout: float | None) -> int:
    """The box's own deadline for a command with ``timeout`` (0: none)."""
    return 0 if timeout is None else _ms(timeout + GRACE_S)


def one_shot(argv: Sequence[str], timeout: float | None) -> tuple[str, ...]:
    """The container command of a one-shot box running ``argv``."""
    return (MOUNT_PATH, "-r", "-t", str(deadline_ms(timeout)), "--", *argv)


ULIMIT_FLAGS = {"fsize": "-f", "nofile": "-n"}


def with_ulimits(command: Sequence[str], ulimits: Iterable[tuple[str, int]]) -> tuple[str, ...]:
    """A boxinit ``command`` that also sets the box's file-size and open-file limits on
    boxinit itself, so whatever it starts inherits them (engines that drop a box's ulimits,
    such as rootless Podman's Docker API, cannot weaken the box: see boxinit.c)."""
    flags = [a for n, v in ulimits if n in ULIMIT_FLAGS for a in (ULIMIT_FLAGS[n], str(v))]
    end = command.index("--") if "--" in command else len(command)  # after the options
    return (*command[:end], *flags, *command[end:])


def primed(idle_s: float | None = None) -> tuple[str, ...]:
    """The container command of a pool box, waiting on stdin for :func:`run_message`."""
    return (MOUNT_PATH, "-r", "-w", "-i", str(_ms(IDLE_S if idle_s is None else idle_s)))


def keeper(idle_s: float | None = None) -> tuple[str, ...]:
    """The container command of a session box: runs nothing itself, serves execs."""
    return (MOUNT_PATH, "-i", str(_ms(IDLE_S if idle_s is None else idle_s)))


def run_message(argv: Sequence[str], timeout: float | None) -> bytes:
    """What a pool box reads to run ``argv`` with ``timeout``."""
    if not argv or any("\0" in arg for arg in argv):
        raise errors.UsageError("a command and its arguments cannot contain NUL bytes")
    args = b"".join(arg.encode() + b"\0" for arg in argv)
    return b"R%d\0%s\0" % (deadline_ms(timeout), args)


def lease_message(seconds: float | None) -> bytes:
    """Keep a session box at least ``seconds`` from now (``None``: until the next lease)."""
    return b"L%d\n" % (-1 if seconds is None else _ms(seconds))


def run_lease(timeout: float | None) -> bytes:
    """The lease a session box gets while one command with ``timeout`` runs."""
    return lease_message(None if timeout is None else timeout + GRACE_S)


def idle_lease(idle_s: float | None = None) -> bytes:
    """The lease a session box gets between runs."""
    return lease_message(IDLE_S if idle_s is None else idle_s)


class LastWords:
    """Reads boxinit's record off the end of a box's output frames (``(1|2, bytes)``).

    :meth:`frames` passes every frame on except the record: stderr bytes that could begin
    one are held back until more stderr shows they do not (only a NUL-started tail is ever
    held). Only the very last stderr bytes count, because boxinit writes its record once
    nothing else in the box can write: a record the command wrote is passed on as output."""

    def __init__(self) -> None:
        self.record: bytes | None = None

    @property
    def oom_killed(self) -> bool:
        """Whether boxinit said the OOM killer killed a process of the box."""
        return self.record == RECORD_OOM

    def frames(self, frames: Iterable[tuple[int, bytes]]) -> Iterator[tuple[int, bytes]]:
        held = b""
        for stream, data in frames:
            if stream != STDERR:
                yield stream, data
                continue
            held += data
            keep = _record_start(held)
            if len(held) > keep:
                yield stream, held[: len(held) - keep]
                held = held[len(held) - keep :]
        if held in (RECORD_END, RECORD_OOM):
            self.record = held
        elif held:
            yield STDERR, held


def _record_start(data: bytes) -> int:
    """The length of the longest tail of ``data`` that is a record or begins one."""
    for size in range(min(len(data), len(RECORD_END)), 0, -1):
        tail = data[-size:]
        if RECORD_END.startswith(tail) or RECORD_OOM.startswith(tail):
            return size
    return 0


@functools.cache
def binary() -> Path:
    """The compiled boxinit for this source (compiled on first use, then cached)."""
    prebuilt = os.environ.get("REPROBOX_BOXINIT")
    if prebuilt:
        return Path(prebuilt)
    source = SOURCE.read_bytes()
    digest = hashlib.sha256(source).hexdigest()[:16]
    target = _cache_dir() / f"boxinit-{digest}"
    if not target.exists():
        _compile(target)
    return target


def _cache_dir() -> Path:
    """Where the binary is kept: it must be readable by the engine, which for rootless
    Podman is another user, so root keeps it in /var/cache (root's home is private)."""
    override = os.environ.get("REPROBOX_CACHE")
    path = Path(override) if override else cachedir.default_root()
    path.mkdir(parents=True, exist_ok=True)
    return path


def _compile(target: Path) -> None:
    compiler = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        raise errors.SandboxError(
            "cannot build the box's init (boxinit): no C compiler found", COMPILE_HINT
        )
    with tempfile.TemporaryDirectory(dir=target.parent) as work:
        out = Path(work) / "boxinit"
        cmd = [compiler, "-static", "-Os", "-s", "-o", str(out), str(SOURCE)]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise errors.SandboxError(
                f"cannot build the box's init (boxinit): {last}", COMPILE_HINT
            )
        out.chmod(0o755)
        os.replace(out, target)  # atomic: concurrent builders all end with a whole binary
