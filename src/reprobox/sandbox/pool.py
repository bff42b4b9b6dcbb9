"""Pre-started boxes, so a one-shot run does not pay for creating and starting a container.

Each box is a primed container (see :mod:`reprobox.sandbox.primed`) that serves exactly one
command as its main process and is then destroyed (never reused across runs); a
background thread keeps ``size`` boxes ready and removes used ones.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterable
from types import TracebackType

from reprobox import errors
from reprobox.engine import Engine
from reprobox.sandbox.backend import Backend, RunBox, check_backend, primed_starter
from reprobox.sandbox.box import (
    POLICY_TIMEOUT,
    Command,
    OnOutput,
    RunStream,
    Timeout,
    argv,
    starting,
)
from reprobox.sandbox.policy import Policy
from reprobox.sandbox.result import RunResult
from reprobox.sandbox.spec import DEFAULT_WORKDIR, Mount, container_spec

READY_WAIT_S = 60.0


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
        self._ready: queue.Queue[RunBox | BaseException] = queue.Queue()
        self._used: queue.Queue[RunBox | None] = queue.Queue()
        self._stop = threading.Event()
        self._want = threading.Semaphore(size)
        self._threads: list[threading.Thread] = []
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
        """Run ``cmd`` in a ready box, which is destroyed afterwards."""
        seconds = self.policy.timeout_s if timeout is POLICY_TIMEOUT else timeout
        box = self._take()
        try:
            with RunStream(box.events(argv(cmd), seconds)) as stream:
                for chunk in stream:
                    if on_output is not None:
                        on_output(chunk)
            return stream.result
        finally:
            self._used.put(box)
            self._want.release()

    def _connected(self) -> Engine:
        if self._engine is None:
            from reprobox.engine import connect

            self._engine = connect(lite=self.backend == "oci")
            self._stack.callback(self._engine.close)
        return self._engine

    def _take(self) -> RunBox:
        if self._start_box is None:
            raise errors.UsageError("use the pool inside 'with SandboxPool(...) as pool:'")
        try:
            item = self._ready.get(timeout=READY_WAIT_S)
        except queue.Empty as exc:
            raise errors.SandboxError("no box became ready in time") from exc
        if isinstance(item, BaseException):
            raise item
        return item

    def _fill(self) -> None:
        start = self._start_box
        assert start is not None
        while not self._stop.is_set():
            self._want.acquire()
            if self._stop.is_set():
                return
            try:
                box = starting(self.image, start)
            except errors.ReproboxError as exc:
                self._ready.put(exc)
                self._stop.wait(1.0)
                continue
            self._ready.put(box)
            if self._stop.is_set():
                return

    def _reap(self) -> None:
        while True:
            box = self._used.get()
            if box is None:
                return
            box.destroy()

    def _shutdown(self) -> None:
        self._stop.set()
        fillers, reapers = self._threads[: self.size], self._threads[self.size :]
        self._want.release(len(fillers))
        for thread in fillers:
            thread.join(timeout=30)
        while not self._ready.empty():
            item = self._ready.get_nowait()
            if not isinstance(item, BaseException):
                self._used.put(item)
        for _ in reapers:
            self._used.put(None)
        for thread in reapers:
            thread.join(timeout=60)
