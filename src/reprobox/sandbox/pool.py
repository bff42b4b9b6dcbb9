"""Pre-started boxes, so a one-shot run does not pay for creating and starting a container.

Each box is a primed box (see :mod:`reprobox.sandbox.primed`) that serves exactly one
command and is then destroyed (never reused across runs). A background *filler* keeps
``size`` boxes ready; while boxes cannot start, it retries with a growing pause (at most
:data:`RETRY_MAX_S`), and every :meth:`SandboxPool.run` that finds no ready box fails at once
with the start error: the pool heals by itself once starts succeed again. A *heartbeat*
renews the ready boxes' idle lifetime (on the engine: a heartbeat on their lifeline) and
drops those that ended; used boxes are removed by a *reaper* thread.
"""

from __future__ import annotations

import contextlib
import copy
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable
from types import TracebackType

from reprobox import errors
from reprobox.engine import Engine
from reprobox.sandbox.backend import Backend, BoxGone, RunBox, check_backend, primed_starter
from reprobox.sandbox.box import (
    POLICY_TIMEOUT,
    Command,
    OnOutput,
    RunStream,
    Timeout,
    argv,
    starting,
)
from reprobox.sandbox.lifeline import Heartbeat
from reprobox.sandbox.policy import Policy
from reprobox.sandbox.result import RunResult
from reprobox.sandbox.spec import DEFAULT_WORKDIR, Mount, container_spec

READY_WAIT_S = 60.0  # longest wait for a box that is still starting, when none failed
FAIL_FAST_S = 1.0  # while starts fail, how long run() waits for a box before it raises
RETRY_MIN_S = 0.2
RETRY_MAX_S = 2.0


class SandboxPool:
    """``size`` ready boxes for one-shot runs; use as a context manager.

    >>> with SandboxPool("reprobox/python:3.11-bookworm", size=2) as pool:
    ...     pool.run(["python3", "-c", "print(1)"]).stdout
    """

    def __init__(
        self,
        image: str,
        policy: Policy | None = None,
        *,
        size: int = 2,
        mounts: Iterable[Mount | str] = (),
        workdir: str = DEFAULT_WORKDIR,
        labels: dict[str, str] | None = None,
        engine: Engine | None = None,
        backend: Backend = "engine",
    ) -> None:
        if size < 1:
            raise errors.UsageError("a pool needs at least one box")
        self.image = image
        self.policy = policy or Policy()
        self.size = size
        parsed = tuple(m if isinstance(m, Mount) else Mount.parse(m) for m in mounts)
        self._spec = container_spec(
            image, self.policy, (), mounts=parsed, workdir=workdir, labels=labels
        )
        self._engine = engine
        self.backend = check_backend(backend)
        self._start_box: Callable[[], RunBox] | None = None
        self._lock = threading.Condition()
        self._ready: deque[RunBox] = deque()
        self._failure: errors.ReproboxError | None = None
        self._used: queue.Queue[RunBox | None] = queue.Queue()
        self._stop = threading.Event()
        self._want = threading.Semaphore(size)
        self._threads: list[threading.Thread] = []
        self._heartbeat: Heartbeat | None = None
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> SandboxPool:
        try:
            self._start_box = starting(
                self.image,
                lambda: primed_starter(self.backend, self._spec, self.policy, self._connected),
            )
        except BaseException:
            self._stack.close()
            raise
        self._stack.callback(self._shutdown)
        # One filler and one reaper per box: starting and removing boxes one at a time would
        # cap the pool's throughput below that of one-shot runs under concurrent callers.
        for target in (self._fill, self._reap):
            for n in range(self.size):
                name = f"reprobox-pool-{target.__name__}-{n}"
                thread = threading.Thread(target=target, name=name, daemon=True)
                thread.start()
                self._threads.append(thread)
        self._heartbeat = Heartbeat(self._renew_ready)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop replenishing and remove every box, ready or used."""
        self._stack.close()

    def run(
        self,
        cmd: Command,
        *,
        timeout: Timeout = POLICY_TIMEOUT,
        on_output: OnOutput | None = None,
    ) -> RunResult:
        """Run ``cmd`` in a ready box, which is destroyed afterwards. When no box is ready
        because boxes currently fail to start, raises that start error at once."""
        seconds = self.policy.timeout_s if timeout is POLICY_TIMEOUT else timeout
        args = argv(cmd)
        for _ in range(self.size + 2):
            box = self._take()
            try:
                return _run_in(box, args, seconds, on_output)
            except BoxGone:
                continue  # it ended while it waited (nothing ran): take the next one
            finally:
                self._release(box)
        raise errors.SandboxError(
            "every ready box had ended before its command", "check the engine: reprobox doctor"
        )

    def _connected(self) -> Engine:
        if self._engine is None:
            from reprobox.engine import connect

            self._engine = connect(lite=self.backend == "oci")
            self._stack.callback(self._engine.close)
        return self._engine

    # --- the ready boxes -------------------------------------------------------------------
    def _take(self) -> RunBox:
        if self._start_box is None:
            raise errors.UsageError("use the pool inside 'with SandboxPool(...) as pool:'")
        with self._lock:
            waited = self._lock.wait_for(
                lambda: self._ready or self._failure or self._stop.is_set(), READY_WAIT_S
            )
            if not self._ready and self._failure is not None:
                # Starts failed: give one in flight a moment to succeed, then fail fast.
                self._lock.wait_for(lambda: self._ready or self._stop.is_set(), FAIL_FAST_S)
            if self._ready:
                return self._ready.popleft()
            if self._failure is not None:
                raise _fresh(self._failure)
        if not waited:
            raise errors.SandboxError(
                f"no box became ready within {READY_WAIT_S:g} s",
                "the engine is slow or overloaded: check it with 'reprobox doctor'",
            )
        raise errors.UsageError("the pool is closed")

    def _release(self, box: RunBox) -> None:
        self._used.put(box)
        self._want.release()

    def _renew_ready(self) -> None:
        """Renew the ready boxes' idle lifetime; drops (and replaces) boxes that ended."""
        with self._lock:
            ready = list(self._ready)
        ended = [box for box in ready if not box.renew()]
        with self._lock:
            ended = [box for box in ended if box in self._ready]
            for box in ended:
                self._ready.remove(box)
        for box in ended:
            self._release(box)

    # --- background threads ----------------------------------------------------------------
    def _fill(self) -> None:
        while not self._stop.is_set():
            self._want.acquire()
            if self._stop.is_set():
                return
            box = self._start_until_up()
            if box is None:
                return
            with self._lock:
                self._ready.append(box)
                self._failure = None
                self._lock.notify_all()

    def _start_until_up(self) -> RunBox | None:
        """Start one box, retrying while starts fail; each failure is what run() raises
        meanwhile. ``None`` when the pool closes first."""
        start = self._start_box
        assert start is not None
        pause = RETRY_MIN_S
        while not self._stop.is_set():
            try:
                return starting(self.image, start)
            except errors.ReproboxError as exc:
                with self._lock:
                    self._failure = exc
                    self._lock.notify_all()
            self._stop.wait(pause)
            pause = min(pause * 2, RETRY_MAX_S)
        return None

    def _reap(self) -> None:
        while True:
            box = self._used.get()
            if box is None:
                return
            box.destroy()

    def _shutdown(self) -> None:
        self._stop.set()
        if self._heartbeat is not None:
            self._heartbeat.stop()
        with self._lock:
            self._lock.notify_all()
        fillers, reapers = self._threads[: self.size], self._threads[self.size :]
        self._want.release(len(fillers))
        for thread in fillers:
            thread.join(timeout=30)
        with self._lock:
            ready, self._ready = list(self._ready), deque()
        for box in ready:
            self._used.put(box)
        for _ in reapers:
            self._used.put(None)
        for thread in reapers:
            thread.join(timeout=60)


def _run_in(
    box: RunBox, args: list[str], seconds: float | None, on_output: OnOutput | None
) -> RunResult:
    with RunStream(box.events(args, seconds)) as stream:
        for chunk in stream:
            if on_output is not None:
                on_output(chunk)
    return stream.result


def _fresh(failure: errors.ReproboxError) -> errors.ReproboxError:
    """A new exception like ``failure`` (each raise gets its own traceback), chained to it."""
    error = copy.copy(failure)
    error.__traceback__ = None
    error.__cause__ = failure
    return error
