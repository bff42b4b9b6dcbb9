"""Running jobs on this machine: ``workers`` threads, one fresh box per job, results in
completion order, never more than ``workers`` jobs pulled from the source ahead of the
results handed back (so memory stays flat however many jobs there are)."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from reprobox import errors
from reprobox.batch.command import job_argv
from reprobox.batch.jobs import Job
from reprobox.batch.results import JobResult
from reprobox.sandbox.backend import Backend
from reprobox.sandbox.policy import Policy
from reprobox.sandbox.spec import Mount

if TYPE_CHECKING:
    from reprobox.engine import Engine
    from reprobox.sandbox.box import Sandbox

log = logging.getLogger("reprobox.batch")
T = TypeVar("T")
R = TypeVar("R")
# A box that cannot run any job (no engine, no image, a missing tool) ends the batch: writing
# the same error for every remaining job would only have to be undone.
FATAL = (errors.EngineUnavailable, errors.ImageNotFound, errors.ToolMissing)


def default_workers() -> int:
    """The CPUs this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@dataclass(frozen=True)
class BoxConfig:
    """Which box every job gets (picklable: it travels to cluster workers as is)."""

    image: str
    policy: Policy = field(default_factory=Policy)
    backend: Backend = "engine"
    mounts: tuple[Mount, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    engine_url: str | None = None


def bounded(items: Iterable[T], work: Callable[[T], R], workers: int) -> Iterator[R]:
    """``work(item)`` for every item on ``workers`` threads, yielded as each finishes. An item
    is pulled from ``items`` only when a thread is free for it. Closing the iterator early
    cancels what has not started and waits for what has."""
    if workers < 1:
        raise errors.UsageError("workers must be at least 1")
    source = iter(items)
    with ThreadPoolExecutor(workers, thread_name_prefix="reprobox-batch") as pool:
        pending: set[Future[R]] = set()
        try:
            while True:
                _fill(pool, pending, source, work, workers)
                if not pending:
                    return
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield future.result()
        finally:
            for future in pending:
                future.cancel()


def _fill(
    pool: ThreadPoolExecutor,
    pending: set[Future[R]],
    source: Iterator[T],
    work: Callable[[T], R],
    workers: int,
) -> None:
    while len(pending) < workers:
        try:
            item = next(source)
        except StopIteration:
            return
        pending.add(pool.submit(work, item))


class LocalBoxes:
    """One :class:`Sandbox` per thread (each with its own engine connection), for one-shot
    runs: every :meth:`run` is a fresh box."""

    def __init__(self, config: BoxConfig, node: str | None = None) -> None:
        self.config = config
        self.node = node
        self._local = threading.local()
        self._engines: list[Engine] = []
        self._lock = threading.Lock()

    def run(self, job: Job) -> JobResult:
        """Run ``job`` in a fresh box; a box that could not run is an ``error`` result."""
        policy = self.config.policy
        timeout = job.timeout_s if job.timeout_s is not None else policy.timeout_s
        started = time.monotonic()
        try:
            run = self._sandbox().run(job_argv(job), timeout=timeout)
        except FATAL:
            raise
        except errors.ReproboxError as exc:
            return JobResult.failed(job.id, exc.message, time.monotonic() - started, self.node)
        except Exception as exc:  # a bug must not lose the other jobs' results
            log.exception("job %r", job.id)
            message = f"internal error: {type(exc).__name__}: {exc}"
            return JobResult.failed(job.id, message, time.monotonic() - started, self.node)
        return JobResult.from_run(job.id, run, self.node)

    def _sandbox(self) -> Sandbox:
        box: Sandbox | None = getattr(self._local, "box", None)
        if box is None:
            from reprobox.sandbox.box import Sandbox

            box = Sandbox(
                self.config.image,
                self.config.policy,
                mounts=self.config.mounts,
                labels=dict(self.config.labels),
                engine=self._engine(),
                backend=self.config.backend,
            )
            self._local.box = box
        return box

    def _engine(self) -> Engine:
        from reprobox.engine import connect

        engine = connect(self.config.engine_url, lite=True)
        with self._lock:
            self._engines.append(engine)
        return engine

    def close(self) -> None:
        with self._lock:
            engines, self._engines = self._engines, []
        for engine in engines:
            engine.close()

    def __enter__(self) -> LocalBoxes:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def run_local(
    jobs: Iterable[Job], config: BoxConfig, workers: int | None = None
) -> Iterator[JobResult]:
    """Every job in a fresh box on this machine, results in completion order."""
    with LocalBoxes(config) as boxes:
        yield from bounded(jobs, boxes.run, workers or default_workers())
