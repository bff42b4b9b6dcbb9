"""Bounded work in flight, completion order, resume and the summary, with fake boxes."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from reprobox import errors
from reprobox.batch.driver import Summary, run_file
from reprobox.batch.jobs import Job
from reprobox.batch.local import bounded
from reprobox.batch.results import JobResult
from reprobox.exitcodes import ExitCode


class Source:
    """A lazy job source that counts how many jobs were pulled from it."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.pulled = 0

    def __iter__(self) -> Iterator[Job]:
        for i in range(self.n):
            self.pulled += 1
            yield Job(i, ("true",))


def test_100000_jobs_never_more_than_workers_pulled_ahead() -> None:
    source = Source(100_000)
    workers = 8
    ahead = 0
    tracemalloc.start()
    for count, _result in enumerate(bounded(source, lambda job: JobResult(job.id, 0), workers), 1):
        ahead = max(ahead, source.pulled - count)
        if count == 1_000:
            tracemalloc.reset_peak()
            base, _ = tracemalloc.get_traced_memory()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == 100_000 and source.pulled == 100_000
    assert ahead <= workers
    assert peak - base < 1 << 20, "memory grew with the number of jobs"


def test_results_come_in_completion_order() -> None:
    gates = {i: threading.Event() for i in range(3)}

    def work(job: Job) -> JobResult:
        gates[int(job.id)].wait(10)
        return JobResult(job.id, 0)

    results = bounded([Job(i, ("x",)) for i in range(3)], work, 3)
    for i in (2, 0, 1):
        gates[i].set()
        assert next(results).id == i


def test_closing_early_stops_pulling_and_waits_for_running_work() -> None:
    source = Source(1_000)
    running: list[int] = []

    def work(job: Job) -> JobResult:
        running.append(int(job.id))
        time.sleep(0.01)
        return JobResult(job.id, 0)

    results = bounded(source, work, 2)
    next(results)
    results.close()
    assert source.pulled <= 3
    assert len(running) <= source.pulled


def test_an_error_of_the_box_ends_the_iteration() -> None:
    def work(job: Job) -> JobResult:
        raise errors.ImageNotFound("image x is not on this engine")

    with pytest.raises(errors.ImageNotFound):
        list(bounded(Source(10), work, 2))


class FakeRunner:
    """Records which jobs it was given; ``error_ids`` come back as box errors."""

    def __init__(self, error_ids: Iterable[object] = (), reruns: int = 0) -> None:
        self.seen: list[object] = []
        self.error_ids = set(error_ids)
        self.reruns = reruns

    def results(self, jobs: Iterable[Job]) -> Iterator[JobResult]:
        for job in jobs:
            self.seen.append(job.id)
            if job.id in self.error_ids:
                yield JobResult.failed(job.id, "box failed")
            else:
                yield JobResult(job.id, 0, node="n1")


def jobs_file(tmp_path: Path, n: int) -> Path:
    path = tmp_path / "jobs.jsonl"
    path.write_text("".join(json.dumps({"id": i, "command": "true"}) + "\n" for i in range(n)))
    return path


def test_a_rerun_skips_the_ids_the_results_hold(tmp_path: Path) -> None:
    jobs, out = jobs_file(tmp_path, 5), tmp_path / "out.jsonl"
    out.write_bytes(JobResult(1, 0).line() + JobResult(3, 0).line() + JobResult(99, 0).line())
    runner = FakeRunner()
    summary = run_file(jobs, out, runner)
    assert runner.seen == [0, 2, 4]
    assert (summary.total, summary.skipped, summary.ran) == (5, 2, 3)
    ids = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert sorted(ids) == [0, 1, 2, 3, 4, 99]
    assert summary.exit_code == ExitCode.OK
    assert run_file(jobs, out, FakeRunner()).ran == 0


def test_errors_make_exit_3_also_when_resumed(tmp_path: Path) -> None:
    jobs, out = jobs_file(tmp_path, 3), tmp_path / "out.jsonl"
    first = run_file(jobs, out, FakeRunner(error_ids={1}))
    assert first.exit_code == ExitCode.COULD_NOT_RUN
    assert first.lines()[0].endswith("2 ok, 0 failed, 0 timed out, 1 error")
    again = run_file(jobs, out, FakeRunner())
    assert (again.skipped, again.skipped_errors, again.exit_code) == (3, 1, ExitCode.COULD_NOT_RUN)


def test_summary_says_where_jobs_ran_and_what_ran_again() -> None:
    summary = Summary(total=4, reruns=2, elapsed_s=2.0)
    for node in ("a", "b", "b", "b"):
        summary.add(JobResult(1, 0, node=node))
    assert summary.lines() == [
        "4 jobs run in 2.0 s (2.0/s): 4 ok, 0 failed, 0 timed out, 0 error",
        "nodes: a 1, b 3",
        "2 jobs ran again on another node after their node was lost (one result line each)",
    ]


def test_bad_jobs_run_nothing_and_create_no_results_file(tmp_path: Path) -> None:
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text('{"id": 1, "command": "true"}\n{"id": 1, "command": "true"}\n')
    runner = FakeRunner()
    with pytest.raises(errors.UsageError):
        run_file(jobs, tmp_path / "out.jsonl", runner)
    assert runner.seen == [] and not (tmp_path / "out.jsonl").exists()


def test_importing_reprobox_and_batch_never_imports_ray() -> None:
    code = "import reprobox, reprobox.batch, reprobox.cli.batch, sys; print('ray' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
