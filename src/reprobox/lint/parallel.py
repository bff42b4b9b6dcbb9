"""Lint many files in several processes, with the same result as in one.

Processes pay only for many files: a fork and sending the findings back cost a few
milliseconds, linting a file about one. So one file, or a few, stay in the calling process,
and so does everything when the process runs other threads (a fork is not safe there).

The calling process forks a child per extra CPU, then lints its own share while they lint
theirs: the children inherit the imported rules (nothing is imported again) and send their
results back pickled through a pipe. Files of one folder share a build context, so they go to
the same process. Results come back in the order of the files, and an error is the one a
sequential run would have stopped at (the first in file order), so the caller merges them
exactly as it merges a sequential run's.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, replace
from typing import Generic, NoReturn, TypeVar

from reprobox import errors

T = TypeVar("T")
R = TypeVar("R")

# Files a process must have for it to pay for itself: on the loaded 2-core machine, a second
# process costs 10-15 ms of CPU (fork, parser start-up, pickling), about 10 files' lint; 16
# files split over two processes were already faster than in one (8 were not): twice that.
MIN_FILES_PER_WORKER = 16


def available_cpus() -> int:
    """The CPUs this process may run on (its affinity, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def workers(jobs: int, files: int) -> int:
    """How many processes lint ``files`` files: ``jobs`` (0: one per available CPU), no more
    than the files pay for, and 1 (the calling process alone) unless it may fork."""
    wanted = jobs or available_cpus()
    count = max(1, min(wanted, files // MIN_FILES_PER_WORKER))
    return count if count == 1 or may_fork() else 1


def may_fork() -> bool:
    """True when this process runs a single thread. A fork copies only the calling thread:
    a lock another thread held stays locked in the child, which may then wait forever (the
    BuildKit parser's Go runtime starts several threads once it loads)."""
    try:
        return hasattr(os, "fork") and len(os.listdir("/proc/self/task")) == 1
    except OSError:  # no /proc: cannot tell
        return False


@dataclass(frozen=True)
class Share(Generic[R]):
    """What one process did: results by item index, and the error it stopped at."""

    results: dict[int, R]
    failure: tuple[int, BaseException] | None = None


def map_split(
    func: Callable[[T], R], items: Sequence[T], key: Callable[[T], Hashable], processes: int
) -> list[R]:
    """``[func(item) for item in items]`` in ``processes`` processes (this one and forked
    children); items with the same ``key`` go to the same process, which calls ``func`` on
    them in order. Raises what ``func`` raised for the first failing item, as the loop would."""
    owners = _owners(items, key, processes)
    children: list[tuple[int, int]] = []
    try:
        for me in range(1, processes):
            children.append(_fork(func, items, owners, me))
        shares = [_work(func, items, owners, 0)]
        while children:
            pid, read = children[0]
            data = _read_all(read)
            status = os.waitpid(pid, 0)[1]
            children.pop(0)
            shares.append(_received(status, data))
    finally:
        _stop(children)
    return _merge(shares, len(items))


def _owners(items: Sequence[T], key: Callable[[T], Hashable], processes: int) -> list[int]:
    """The process of each item: keys dealt out in turn, in the order they first appear."""
    ordinals: dict[Hashable, int] = {}
    return [ordinals.setdefault(key(item), len(ordinals)) % processes for item in items]


def _work(func: Callable[[T], R], items: Sequence[T], owners: list[int], me: int) -> Share[R]:
    """Process ``me``'s items in order, up to the first that fails."""
    results: dict[int, R] = {}
    for index, item in enumerate(items):
        if owners[index] != me:
            continue
        try:
            results[index] = func(item)
        except Exception as exc:
            return Share(results, (index, exc))
    return Share(results)


def _fork(
    func: Callable[[T], R], items: Sequence[T], owners: list[int], me: int
) -> tuple[int, int]:
    """Fork a child that does share ``me`` and writes it to a pipe: (pid, read end)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        _child(func, items, owners, me, read, write)
    os.close(write)
    return pid, read


def _child(
    func: Callable[[T], R], items: Sequence[T], owners: list[int], me: int, read: int, write: int
) -> NoReturn:
    """The forked child: do share ``me``, send it, leave (never returns into the caller, and
    runs no exit handler of the parent's)."""
    status = 1
    try:
        os.close(read)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
        with open(write, "wb") as pipe:
            pipe.write(_dumps(_work(func, items, owners, me)))
        status = 0
    finally:
        os._exit(status)


def _dumps(share: Share[R]) -> bytes:
    import pickle  # only once processes are used

    try:
        return pickle.dumps(share, pickle.HIGHEST_PROTOCOL)
    except Exception:  # an error that cannot be pickled: its type and text are enough
        index, exc = share.failure or (0, RuntimeError("results could not be sent"))
        failure = (index, RuntimeError(f"{type(exc).__name__}: {exc}"))
        return pickle.dumps(replace(share, failure=failure), pickle.HIGHEST_PROTOCOL)


def _read_all(fd: int) -> bytes:
    with open(fd, "rb") as pipe:
        return pipe.read()


def _received(status: int, data: bytes) -> Share[R]:
    """A child's share, from its exit status and what it sent."""
    if status != 0 or not data:
        raise errors.LintError(
            f"a lint worker process failed ({_describe(status)})",
            hint="run again with --jobs 1 to lint in one process",
        )
    import pickle

    share: Share[R] = pickle.loads(data)
    return share


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"


def _stop(children: list[tuple[int, int]]) -> None:
    """Kill and reap the children an interruption left behind."""
    for pid, read in children:
        with contextlib.suppress(OSError):
            os.close(read)
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


def _merge(shares: list[Share[R]], count: int) -> list[R]:
    """The results in item order, or the error of the first failing item. Every item before
    it has its result: its process stopped only at a failure further on, or not at all."""
    failures = [share.failure for share in shares if share.failure is not None]
    if failures:
        raise min(failures, key=lambda failure: failure[0])[1]
    merged: dict[int, R] = {}
    for share in shares:
        merged.update(share.results)
    return [merged[index] for index in range(count)]
