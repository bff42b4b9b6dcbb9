"""``reprobox batch`` as one library call: a checked jobs file -> durable results + summary."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from reprobox.batch.jobs import Job, check_jobs, read_jobs
from reprobox.batch.local import BoxConfig, run_local
from reprobox.batch.results import Done, JobResult, ResultLog
from reprobox.exitcodes import ExitCode

STATUSES = ("ok", "failed", "timed out", "error")


class Runner(Protocol):
    """Where the jobs run: this machine, or a cluster."""

    reruns: int

    def results(self, jobs: Iterable[Job]) -> Iterator[JobResult]: ...


class LocalRunner:
    """Jobs on this machine's threads."""

    def __init__(self, config: BoxConfig, workers: int | None = None) -> None:
        self.config = config
        self.workers = workers
        self.reruns = 0

    def results(self, jobs: Iterable[Job]) -> Iterator[JobResult]:
        return run_local(jobs, self.config, self.workers)


class Reporter(Protocol):
    """Told about the batch's progress (the CLI draws a progress bar)."""

    def started(self, to_run: int, skipped: int) -> None: ...

    def finished(self, result: JobResult) -> None: ...


@dataclass
class Summary:
    """What a batch did: counts by status (this run), ids skipped because ``--out`` already
    held them, jobs run again after their node was lost, and the nodes that served."""

    total: int
    skipped: int = 0
    skipped_errors: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    reruns: int = 0
    nodes: Counter[str] = field(default_factory=Counter)
    elapsed_s: float = 0.0
    torn_bytes: int = 0

    def add(self, result: JobResult) -> None:
        self.counts[result.status] += 1
        if result.node is not None:
            self.nodes[result.node] += 1

    @property
    def ran(self) -> int:
        return sum(self.counts.values())

    @property
    def exit_code(self) -> ExitCode:
        """0 when every job has a result from a box that ran, 3 when some could not run."""
        complete = self.ran + self.skipped == self.total
        ok = complete and not self.counts["error"] and not self.skipped_errors
        return ExitCode.OK if ok else ExitCode.COULD_NOT_RUN

    def lines(self) -> list[str]:
        rate = self.ran / self.elapsed_s if self.elapsed_s > 0 else 0.0
        counts = ", ".join(f"{self.counts[s]} {s}" for s in STATUSES)
        lines = [f"{self.ran} jobs run in {self.elapsed_s:.1f} s ({rate:.1f}/s): {counts}"]
        if self.skipped:
            errors = f", {self.skipped_errors} of them errors" if self.skipped_errors else ""
            lines.append(f"{self.skipped} jobs skipped: already in the results file{errors}")
        if self.torn_bytes:
            lines.append(
                f"cut {self.torn_bytes} bytes of an unfinished last line off the results file"
            )
        if self.nodes:
            served = ", ".join(f"{node} {n}" for node, n in sorted(self.nodes.items()))
            lines.append(f"nodes: {served}")
        if self.reruns:
            lines.append(
                f"{self.reruns} jobs ran again on another node after their node was lost "
                "(one result line each)"
            )
        missing = self.total - self.ran - self.skipped
        if missing:
            lines.append(f"{missing} jobs have no result yet: run the same command again")
        return lines


def run_file(
    jobs_path: Path, out_path: Path, runner: Runner, reporter: Reporter | None = None
) -> Summary:
    """Check ``jobs_path`` whole (:class:`BadJobs` before anything runs), then run every job
    whose id ``out_path`` does not hold yet, appending each result durably as it ends."""
    total = check_jobs(jobs_path)
    with ResultLog.open(out_path) as log:
        summary = _summary(total, log.done, jobs_path)
        if reporter is not None:
            reporter.started(total - summary.skipped, summary.skipped)
        todo = (job for job in read_jobs(jobs_path) if job.id not in log.done.ids)
        started = time.monotonic()
        try:
            for result in runner.results(todo):
                log.append(result)
                summary.add(result)
                if reporter is not None:
                    reporter.finished(result)
        finally:
            summary.elapsed_s = time.monotonic() - started
            summary.reruns = runner.reruns
    return summary


def _summary(total: int, done: Done, jobs_path: Path) -> Summary:
    """Counts the ids of ``jobs_path`` the results already hold (other ids are ignored)."""
    summary = Summary(total=total, torn_bytes=done.torn_bytes)
    if done.ids:
        for job in read_jobs(jobs_path):
            if job.id in done.ids:
                summary.skipped += 1
                summary.skipped_errors += job.id in done.errors
    return summary
