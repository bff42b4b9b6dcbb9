"""The OCI runtimes (runc, runsc, crun), a box's bundle on disk, and its supervisor.

Every box is a bundle folder under ``<run dir>/boxes/<id>`` (its ``config.json`` and an
``owner`` file) plus the runtime's state under ``<run dir>/<runtime>``, and a cgroup under
``/reprobox/<id>``. The owner's *supervisor* (one tiny ``bash`` loop per owner process, in its
own session, so neither Ctrl-C nor the owner's death reaches it) holds the read end of a pipe
only the owner writes to: each box is registered with its deadline, and forgotten when the
owner has removed it; when the owner dies (the pipe closes) or a box's deadline passes, it
kills the box, deletes it from the runtime and removes its cgroup and bundle. So a box never
outlives its owner or its deadline, even when the owner is SIGKILLed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import fcntl
import functools
import json
import os
import shutil
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from reprobox import errors, tools

RUNTIMES = ("runc", "runsc", "crun")
HYBRID_MARK = Path("/sys/fs/cgroup/unified")
CGROUP_ROOT = Path("/sys/fs/cgroup")
CGROUP_PARENT = "reprobox"
# Seconds a supervisor waits past the box's own timeout before it kills the box itself (the
# owner's watchdog fires first; this only matters when the owner is stuck or dead).
SUPERVISOR_GRACE_S = 2.0
SUPERVISOR = r"""
trap '' INT TERM HUP
declare -A until bundle argv
now() { local t=${EPOCHREALTIME/./}; now=$((10#$t / 1000)); }
end_box() {  # kill and delete box $1 from its runtime, remove its cgroup and bundle
  local id=$1 i; local -a cmd
  IFS=$'\t' read -r -a cmd <<< "${argv[$id]}"
  "${cmd[@]}" kill "$id" KILL 2>/dev/null
  for i in 1 2 3 4 5 6 7 8 9 10; do
    "${cmd[@]}" delete --force "$id" 2>/dev/null && break
    "${cmd[@]}" state "$id" >/dev/null 2>&1 || break
    sleep 0.2
  done
  rmdir /sys/fs/cgroup/memory/reprobox/"$id" 2>/dev/null
  rm -rf "${bundle[$id]}"
  unset "until[$id]" "bundle[$id]" "argv[$id]"
}
while :; do
  now; next=
  for id in "${!until[@]}"; do
    d=${until[$id]}
    [ "$d" = - ] && continue
    if (( d <= now )); then end_box "$id"; continue; fi
    if [ -z "$next" ] || (( d < next )); then next=$d; fi
  done
  if [ -n "$next" ]; then
    wait_ms=$((next - now)); printf -v t '%d.%03d' $((wait_ms / 1000)) $((wait_ms % 1000))
    IFS=$'\t' read -r -t "$t" cmd id d path rest; rc=$?
  else
    IFS=$'\t' read -r cmd id d path rest; rc=$?
  fi
  if (( rc > 128 )); then continue; fi  # a deadline passed: the loop ends that box
  if (( rc != 0 )); then  # end of file: the owner is gone
    for id in "${!until[@]}"; do end_box "$id"; done
    exit 0
  fi
  case $cmd in
    add) until[$id]=$d bundle[$id]=$path argv[$id]=$rest ;;
    done) unset "until[$id]" "bundle[$id]" "argv[$id]" ;;
  esac
done
"""


# The seals runc's ``runc init`` checks (libcontainer/nsenter/cloned_binary.c, RUNC_MEMFD_SEALS):
# a binary started from a memfd with exactly these is already the sealed copy runc would make.
F_ADD_SEALS = 1033
F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_GROW, F_SEAL_WRITE = 1, 2, 4, 8
RUNC_SEALS = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE
_sealed: dict[tuple[str, int, int, int, int], int] = {}
_sealed_lock = threading.Lock()


def run_dir() -> Path:
    """Where bundles and runtime state live (``REPROBOX_RUN_DIR``, default ``/run/reprobox``)."""
    return Path(os.environ.get("REPROBOX_RUN_DIR", "/run/reprobox"))


@dataclass(frozen=True)
class Runtime:
    """One OCI runtime binary, with reprobox's own state folder."""

    name: str
    path: str

    @property
    def state_root(self) -> Path:
        return run_dir() / self.name

    def argv(self, network: str = "disabled") -> list[str]:
        """The runtime's command prefix (global flags included)."""
        base = [self.path, "--root", str(self.state_root)]
        if self.name == "runsc":
            base.append("--network=host" if network == "host" else "--network=none")
        return base

    @property
    def launcher(self) -> str:
        """What to execute for commands that start ``<runtime> init`` (run, exec): for runc,
        a sealed in-memory copy of it (see :func:`sealed_copy`); the binary itself otherwise."""
        return sealed_copy(self.path) if self.name == "runc" else self.path

    @property
    def keeps_state(self) -> bool:
        """Whether ``run --keep`` exists (so the cgroup can be read after the box exits)."""
        return self.name in ("runc", "crun")


def find_runtime(name: str | None) -> Runtime:
    """The runtime ``name`` (default runc), or a one-line error saying why it cannot run."""
    chosen = name or "runc"
    if chosen not in RUNTIMES:
        raise errors.UsageError(
            f"unknown runtime {chosen} for the oci backend: use one of {', '.join(RUNTIMES)}"
        )
    path = tools.find(tools.RUNTIMES[chosen], "the oci backend runs boxes with it")
    if chosen == "crun" and hybrid_cgroups():
        raise errors.SandboxError(
            "crun refuses this machine's hybrid cgroups (v1 controllers plus a v2 'unified' mount)",
            "use --runtime runc (the default) or runsc",
        )
    return Runtime(chosen, path)


def sealed_copy(path: str) -> str:
    """``/proc/<pid>/fd/<n>`` of a sealed memfd copy of the binary ``path``, made once per
    process (and again when the binary changes); ``path`` itself when that cannot be made.

    Against CVE-2019-5736 (a box overwriting the runc binary that started it through
    ``/proc/<pid>/exe``), every ``runc init`` makes sure it runs from a copy the box cannot
    write: unless it already runs from a memfd sealed against writes, it bind-mounts itself
    read-only in the host's mount namespace (or copies its 9 MB into a memfd) and re-executes.
    Started from this copy, runc finds its own protection already in place and skips that work
    (a mount, a lazy unmount and a second exec per box); the seals make the copy as unwritable
    as runc's own, for the box and for everyone else (``F_SEAL_SEAL`` keeps them on), and its
    mode (0500, root's) keeps a box's users from running, reading or opening it at all. A box
    that still holds it open for writing (root with ``CAP_DAC_OVERRIDE``) cannot write, but
    makes it busy: :func:`spawn` then starts runc from ``path``."""
    try:
        st = os.stat(path)
    except OSError:
        return path
    key = (path, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    with _sealed_lock:
        fd = _sealed.get(key)
        if fd is None:
            fd = _sealed[key] = _seal(path)
    return path if fd < 0 else f"/proc/{os.getpid()}/fd/{fd}"


def _seal(path: str) -> int:
    """A memfd holding ``path``'s bytes, sealed with :data:`RUNC_SEALS` (-1 on failure)."""
    try:
        fd = os.memfd_create("runc", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    except (OSError, AttributeError):
        return -1
    try:
        with open(path, "rb") as src:
            while chunk := src.read(1 << 20):
                view = memoryview(chunk)
                while view:
                    view = view[os.write(fd, view) :]
        os.fchmod(fd, 0o500)  # only root may execute or even read it; nobody may open it to write
        fcntl.fcntl(fd, F_ADD_SEALS, RUNC_SEALS)
    except OSError:
        os.close(fd)
        return -1
    return fd


def hybrid_cgroups() -> bool:
    return HYBRID_MARK.is_dir() and (CGROUP_ROOT / "memory").is_dir()


def new_box_id() -> str:
    return f"rbx-{uuid.uuid4().hex[:16]}"


@dataclass(frozen=True)
class Owner:
    """Who made a box and with what: ``reprobox gc`` reads it to clean up after a dead owner."""

    pid: int
    start: int  # the owner's start time in clock ticks, so a reused pid is not mistaken
    image: str
    runtime: str
    network: str

    @classmethod
    def me(cls, image: str, runtime: str, network: str) -> Owner:
        return cls(os.getpid(), process_start(os.getpid()), image, runtime, network)

    def alive(self) -> bool:
        return process_start(self.pid) == self.start


def process_start(pid: int) -> int:
    """The start time of ``pid`` in clock ticks (0 when there is no such live process)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0
    return 0 if fields[0] == "Z" else int(fields[19])


@dataclass
class Bundle:
    """A box's folder: ``config.json`` and the ``owner`` file (pid, image key)."""

    box_id: str
    path: Path

    @classmethod
    def create(cls, box_id: str, config: str, owner: Owner) -> Bundle:
        """The bundle folder with its ``owner`` file and ``config`` (serialized) as
        ``config.json``."""
        path = run_dir() / "boxes" / box_id
        path.mkdir(parents=True, mode=0o700)
        _write_new(path / "owner", json.dumps(dataclasses.asdict(owner)).encode())
        _write_new(path / "config.json", config.encode())
        return cls(box_id, path)

    @property
    def pid_file(self) -> Path:
        return self.path / "pid"

    def started(self) -> bool:
        return self.pid_file.exists()

    def remove(self) -> None:
        """Remove the folder: the files reprobox and the runtime put there, then the folder
        (anything else in it: the whole tree)."""
        for name in BUNDLE_FILES:
            with contextlib.suppress(OSError):
                os.unlink(self.path / name)
        try:
            os.rmdir(self.path)
        except FileNotFoundError:
            pass
        except OSError:
            shutil.rmtree(self.path, ignore_errors=True)


# What a bundle folder holds: ours (owner, config.json), the runtime's pid file, a detached
# start's log.
BUNDLE_FILES = ("owner", "config.json", "pid", "start.log")


def _write_new(path: Path, data: bytes) -> None:
    """Write ``data`` to the new file ``path`` (one open, one write, one close)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


class Watcher:
    """One supervisor process (a ``bash`` loop, :data:`SUPERVISOR`) for all of an owner's
    boxes, in its own session so neither Ctrl-C nor the owner's death reaches it. It reads
    tab-separated lines from a pipe only the owner writes to: ``add ID DEADLINE BUNDLE
    RUNTIME-ARGV...`` (``DEADLINE`` in epoch milliseconds, ``-`` for none) and ``done ID``.
    When a box's deadline passes it kills the box, deletes it from the runtime and removes
    its cgroup and bundle; at the end of the pipe (the owner exited or died, SIGKILL
    included) it does that to every box still registered, then exits. One process per owner
    instead of one per box: a box costs two short writes to a pipe, not a process start."""

    def __init__(self) -> None:
        read, self._write = os.pipe()
        try:
            self.proc = subprocess.Popen(
                ["bash", "-c", SUPERVISOR, "reprobox-supervisor", str(os.getpid())],
                stdin=read,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        except BaseException:
            os.close(self._write)
            raise
        finally:
            os.close(read)
        threading.Thread(target=self.proc.wait, daemon=True).start()  # reaped when it exits
        self.lock = threading.Lock()

    def send(self, *fields: str) -> bool:
        """Write one message; ``False`` when the supervisor is gone (or closed)."""
        for field in fields:
            if "\t" in field or "\n" in field:
                raise errors.SandboxError(f"a tab or newline in {field!r}: cannot supervise it")
        line = ("\t".join(fields) + "\n").encode()
        with self.lock:
            if self._write < 0:
                return False
            try:
                return os.write(self._write, line) == len(line)
            except OSError:
                return False

    def close(self) -> None:
        """What the owner's exit does: the supervisor ends every box still registered."""
        with self.lock:
            fd, self._write = self._write, -1
        if fd >= 0:
            os.close(fd)


_watcher: Watcher | None = None
_watcher_lock = threading.Lock()


def _forget_watcher() -> None:
    """In a forked child: the parent's supervisor is not ours (a pipe we keep open would keep
    it from ending the parent's boxes when the parent dies)."""
    global _watcher, _watcher_lock
    watcher, _watcher, _watcher_lock = _watcher, None, threading.Lock()
    if watcher is not None:
        with contextlib.suppress(OSError):
            os.close(watcher._write)
        watcher._write = -1


os.register_at_fork(after_in_child=_forget_watcher)


def supervise(*fields: str) -> None:
    """Send ``fields`` to this process's supervisor, starting it (again) when needed."""
    global _watcher
    with _watcher_lock:
        if _watcher is None:
            _watcher = Watcher()
        watcher = _watcher
    if watcher.send(*fields):
        return
    with _watcher_lock:
        if _watcher is watcher:
            _watcher = Watcher()  # it died: a new one for this box and the next
        watcher = _watcher
    if not watcher.send(*fields):
        raise errors.SandboxError("cannot start the box's supervisor (bash)")


class Supervisor:
    """A box's registration with its owner's supervisor (:class:`Watcher`): it kills and
    deletes the box when its owner dies or its deadline passes, until :meth:`release`."""

    def __init__(self, runtime: Runtime, bundle: Bundle, network: str, deadline: float | None):
        self.box_id = bundle.box_id
        until = (
            "-"
            if deadline is None
            else f"{(time.time() + deadline + SUPERVISOR_GRACE_S) * 1000:.0f}"
        )
        supervise("add", bundle.box_id, until, str(bundle.path), *runtime.argv(network))
        self._released = False

    def release(self) -> None:
        """The owner cleaned up itself: the supervisor forgets the box. Idempotent."""
        if self._released:
            return
        self._released = True
        with contextlib.suppress(errors.SandboxError):
            supervise("done", self.box_id)


def spawn(runtime: Runtime, cmd: list[str], **options: Any) -> subprocess.Popen[bytes]:
    """``subprocess.Popen(cmd)`` from the runtime's :attr:`~Runtime.launcher`, or from its
    binary when the launcher is busy (ETXTBSY: something holds it open for writing)."""
    try:
        return subprocess.Popen(cmd, executable=runtime.launcher, **options)
    except OSError as exc:
        if exc.errno != errno.ETXTBSY:
            raise
    return subprocess.Popen(cmd, executable=runtime.path, **options)


def quiet(cmd: list[str], stdin: bytes | None = None, timeout: float = 30) -> int:
    """Run a runtime command whose output nobody needs; its exit status."""
    try:
        done = subprocess.run(
            cmd,
            input=stdin,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return -1
    return done.returncode


def quiet_to(
    cmd: list[str], stderr: IO[bytes], timeout: float = 60, runtime: Runtime | None = None
) -> int:
    """Run a runtime command with its stderr in ``stderr`` (from ``runtime``'s launcher when
    given, see :func:`spawn`); its exit status."""
    options: dict[str, Any] = {"stdin": subprocess.DEVNULL, "stdout": subprocess.DEVNULL}
    try:
        proc = (
            spawn(runtime, cmd, stderr=stderr, **options)
            if runtime is not None
            else subprocess.Popen(cmd, stderr=stderr, **options)
        )
    except OSError as exc:
        stderr.write(str(exc).encode())
        return -1
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        proc.kill()
        proc.wait()
        stderr.write(str(exc).encode())
        return -1


def has_state(runtime: Runtime, box_id: str) -> bool:
    """Whether the runtime keeps any state for the box (an entry of its state folder whose
    name holds the box's ID: runc's folder is the ID, runsc's files embed it)."""
    try:
        names = os.listdir(runtime.state_root)
    except OSError:
        return False
    return any(box_id in name for name in names)


def delete(runtime: Runtime, box_id: str, network: str) -> None:
    """Remove the box from the runtime (killing what is left), its state and its cgroup."""
    if runtime.name == "runc" and _delete_stopped_runc(runtime, box_id):
        return
    quiet([*runtime.argv(network), "delete", "--force", box_id])


def _delete_stopped_runc(runtime: Runtime, box_id: str) -> bool:
    """What ``runc delete`` does for a box whose init has exited, without starting runc (a
    Go binary start costs 10 ms): remove its empty cgroups, then its state folder. ``False``
    (so ``runc delete --force`` runs) when any process is left or anything fails."""
    state = runtime.state_root / box_id
    try:
        data = json.loads((state / "state.json").read_text())
        pid = int(data["init_process_pid"])
        if pid and _alive(pid, int(data.get("init_process_start") or 0)):
            return False
        for path in sorted(set((data.get("cgroup_paths") or {}).values())):
            with contextlib.suppress(FileNotFoundError):
                os.rmdir(path)
    except (OSError, ValueError, KeyError, TypeError):
        return False
    shutil.rmtree(state, ignore_errors=True)
    return True


def _alive(pid: int, start: int) -> bool:
    """Whether ``pid`` is still the process that started at clock tick ``start``."""
    now = process_start(pid)
    return now != 0 and (not start or now == start)


def cgroup_file(box_id: str, controller: str, name: str) -> Path:
    """A cgroup file of the box (v1 controller folder, or the v2 unified tree)."""
    return Path(f"{_cgroup_parent(CGROUP_ROOT, controller)}/{box_id}/{name}")


@functools.cache
def _cgroup_parent(root: Path, controller: str) -> str:
    """Where boxes' cgroups of ``controller`` are: its v1 hierarchy, else the v2 tree (the
    machine's cgroup mounts, looked at once per process)."""
    if (root / controller).is_dir():
        return str(root / controller / CGROUP_PARENT)
    return str(root / CGROUP_PARENT)


MOUNTS = Path("/proc/self/mounts")


def memory_cgroup_made(box_id: str, memory: dict[str, int] | None) -> bool:
    """Make the box's cgroup v1 memory folder, with the box's limits, before runsc starts it;
    whether it did. runsc removes the cgroups *it made* as the box exits (it has no ``run
    --keep``), so the OOM counter would be gone before it could be read; a folder it finds is
    left for the owner, but runsc then sets none of its limits either, so they are written
    here (``memory.limit_in_bytes``, then ``memory.memsw.limit_in_bytes``), and any failure
    removes the folder and raises: never a box without its memory limit. Only where the
    memory controller is a v1 hierarchy of its own (a folder shared with other controllers
    would lose their limits too): elsewhere nothing is made and runsc does it all."""
    folder = CGROUP_ROOT / "memory" / CGROUP_PARENT / box_id
    if not memory or not _sole_v1_controller("memory"):
        return False
    folder.mkdir(parents=True)
    try:
        (folder / "memory.limit_in_bytes").write_text(str(memory["limit"]))
        swap = folder / "memory.memsw.limit_in_bytes"
        if "swap" in memory and swap.exists():
            swap.write_text(str(memory["swap"]))
    except (OSError, KeyError) as exc:
        with contextlib.suppress(OSError):
            folder.rmdir()
        raise errors.SandboxError(f"could not set the box's memory limit: {exc}") from exc
    return True


def remove_memory_cgroup(box_id: str) -> None:
    """Remove the folder :func:`memory_cgroup_made` made (empty by then)."""
    with contextlib.suppress(OSError):
        (CGROUP_ROOT / "memory" / CGROUP_PARENT / box_id).rmdir()


def _sole_v1_controller(name: str) -> bool:
    """Whether ``/sys/fs/cgroup/<name>`` is a cgroup v1 mount of that one controller."""
    mountpoint = str(CGROUP_ROOT / name)
    try:
        lines = MOUNTS.read_text().splitlines()
    except OSError:
        return False
    for line in lines:
        fields = line.split()
        if len(fields) >= 4 and fields[1] == mountpoint and fields[2] == "cgroup":
            options = set(fields[3].split(",")) - {"rw", "ro", "relatime", "noatime"}
            return options == {name}
    return False


@dataclass(frozen=True)
class Usage:
    """What the box's cgroup says it used (``None`` where the file is missing)."""

    peak_memory_bytes: int | None
    cpu_ns: int | None


def usage(box_id: str, reset_peak: bool = False) -> Usage:
    """Peak memory and CPU time from the box's cgroup v1 files (two small reads); with
    ``reset_peak``, the peak starts again from now (for the next session run)."""
    peak_file = cgroup_file(box_id, "memory", "memory.max_usage_in_bytes")
    if reset_peak:
        with contextlib.suppress(OSError), open(peak_file, "w") as peak:
            peak.write("0")
    return Usage(_number(peak_file), _number(cgroup_file(box_id, "cpuacct", "cpuacct.usage")))


def _number(path: Path) -> int | None:
    try:
        return int(_read(path).strip())
    except (OSError, ValueError):
        return None


def _read(path: Path) -> str:
    """A small (cgroup or proc) file's text: one open, one read."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        return os.read(fd, 1 << 16).decode()
    finally:
        os.close(fd)


def cpu_seconds(before: Usage, after: Usage) -> float | None:
    if before.cpu_ns is None or after.cpu_ns is None:
        return None
    return (after.cpu_ns - before.cpu_ns) / 1e9


def oom_kills(box_id: str) -> int:
    """How many processes the kernel killed for exceeding the box's memory limit."""
    for name, key in (("memory.oom_control", "oom_kill"), ("memory.events", "oom_kill")):
        try:
            text = _read(cgroup_file(box_id, "memory", name))
        except OSError:
            continue
        for line in text.splitlines():
            field, _, value = line.partition(" ")
            if field == key and value.strip().isdigit():
                return int(value)
    return 0
