"""``reprobox batch``: many untrusted commands from a JSON-lines file, a fresh box each."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reprobox import errors
from reprobox.cli.box_options import BoxOptions, box_options
from reprobox.cli.common import fail
from reprobox.exitcodes import ExitCode
from reprobox.sandbox.signals import Terminated, sigterm_raises

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from reprobox.batch.driver import Runner, Summary
    from reprobox.batch.jobs import BadJobs
    from reprobox.batch.results import JobResult


@click.command()
@box_options
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Results file (JSON lines), appended as each job ends; ids it holds are skipped.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Boxes at once on this machine [default: the CPUs].",
)
@click.option(
    "--cluster",
    metavar="ADDRESS",
    default=None,
    help="Run on a Ray cluster: 'auto' (this machine's), HOST:PORT (the head's) or "
    "ray://HOST:PORT (its Ray Client server, for a driver off the cluster) (needs reprobox[ray]).",
)
@click.argument("jobs", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def batch(jobs: Path, out: Path, workers: int | None, cluster: str | None, box: BoxOptions) -> None:
    """Run every job of JOBS (JSON lines) in a fresh box; write one result line per job.

    A job: {"id": ..., "command": [...] or "shell string", "files": {path: text},
    "stdin": text, "timeout_s": seconds}; only id and command are required. A result:
    id, exit_code, stdout, stderr, timed_out, oom_killed, duration_s (and node on a
    cluster), or id and error when the box could not run. Exit 0 when every job has a
    result, 3 when some could not run, 2 for a bad jobs file (nothing runs).
    """
    try:
        runner = _runner(box, workers, cluster)
        with sigterm_raises():
            summary = _run(jobs, out, runner)
    except errors.UsageError as exc:
        _bad_input(exc)
    except errors.ReproboxError as exc:
        fail(exc)
    except (KeyboardInterrupt, Terminated):
        click.echo(
            "interrupted: finished results are kept; run the same command to resume", err=True
        )
        sys.exit(int(ExitCode.INTERRUPTED))
    for line in summary.lines():
        click.echo(line)
    sys.exit(int(summary.exit_code))


def _runner(box: BoxOptions, workers: int | None, cluster: str | None) -> Runner:
    from reprobox.batch.driver import LocalRunner
    from reprobox.batch.local import BoxConfig
    from reprobox.sandbox.backend import check_backend
    from reprobox.sandbox.command import parse_labels

    request = box.request()
    config = BoxConfig(
        image=request.image,
        policy=request.policy(),
        backend=check_backend(request.backend),
        mounts=request.parsed_mounts(),
        labels=tuple(sorted(parse_labels(request.labels).items())),
        engine_url=click.get_current_context().find_root().params.get("host"),
    )
    if cluster is None:
        return LocalRunner(config, workers)
    from reprobox.batch.cluster import RayRunner

    return RayRunner(config, cluster)


def _run(jobs: Path, out: Path, runner: Runner) -> Summary:
    from reprobox.batch.driver import run_file

    with _Bar() as bar:
        return run_file(jobs, out, runner, bar)


def _bad_input(exc: errors.UsageError) -> None:
    from reprobox.batch.jobs import BadJobs

    if isinstance(exc, BadJobs):
        _bad_lines(exc)
    fail(exc)


def _bad_lines(exc: BadJobs) -> None:
    from reprobox.cli.common import plain

    for bad in exc.bad:
        click.echo(f"error: {plain(exc.path)}:{bad.line}: {plain(bad.reason)}", err=True)
    more = exc.total_bad - len(exc.bad)
    tail = f" ({more} more not shown)" if more else ""
    lines = "line" if exc.total_bad == 1 else "lines"
    click.echo(f"{exc.total_bad} bad {lines}{tail}; no job was run", err=True)
    sys.exit(int(ExitCode.USAGE))


class _Bar:
    """A rich progress bar on stderr: done/total, rate, ETA, and the counts so far."""

    def __init__(self) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        from reprobox.cli import common

        self.progress: Progress = Progress(
            TextColumn("batch"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[counts]}"),
            console=common.err,
            disable=not common.err.is_terminal,  # a log file gets the summary alone
        )
        self.task: TaskID | None = None
        self.counts: dict[str, int] = {}

    def started(self, to_run: int, skipped: int) -> None:
        """Drawn only once the input is checked, so a bad file prints nothing else."""
        self.task = self.progress.add_task("batch", total=to_run, rate="", counts="")
        self.progress.start()

    def finished(self, result: JobResult) -> None:
        self.counts[result.status] = self.counts.get(result.status, 0) + 1
        assert self.task is not None
        self.progress.advance(self.task)
        task = self.progress.tasks[0]
        speed = task.finished_speed or task.speed
        counts = " ".join(f"{n} {s}" for s, n in sorted(self.counts.items()))
        rate = f"{speed:.1f} jobs/s" if speed else ""
        self.progress.update(self.task, rate=rate, counts=counts)

    def __enter__(self) -> _Bar:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.task is not None:
            self.progress.stop()
