"""Many untrusted commands, a fresh box each: on this machine's threads or on a Ray cluster.

>>> from reprobox.batch import Job, run_batch
>>> jobs = (Job(id=i, command=["python3", "-c", f"print({i})"]) for i in range(100_000))
>>> for result in run_batch(jobs, "reprobox/python:3.11-bookworm", workers=4):
...     print(result.id, result.exit_code, result.stdout)

Results come in completion order; at most ``workers`` jobs are taken from ``jobs`` ahead of the
results handed back, so a lazy source of any length keeps memory flat.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from reprobox.batch.jobs import Job, JobId
from reprobox.batch.local import BoxConfig
from reprobox.batch.results import JobResult
from reprobox.sandbox.backend import Backend, check_backend
from reprobox.sandbox.policy import Policy
from reprobox.sandbox.spec import Mount

__all__ = ["BoxConfig", "Job", "JobId", "JobResult", "run_batch"]


def run_batch(
    jobs: Iterable[Job | Mapping[str, Any]],
    image: str,
    policy: Policy | None = None,
    *,
    backend: Backend = "engine",
    workers: int | None = None,
    cluster: str | None = None,
    mounts: Iterable[Mount | str] = (),
    labels: Mapping[str, str] | None = None,
) -> Iterator[JobResult]:
    """Run every job in a fresh box and yield its result as it ends (completion order).
    Ids are not checked for uniqueness here (that would keep every id in memory); the
    ``reprobox batch`` command checks its jobs file.

    ``jobs`` are :class:`Job` values or dicts in the jobs-file format. ``workers`` boxes run at
    once (default: this machine's CPUs). ``cluster`` (``"auto"`` or ``"ray://HOST:PORT"``) runs
    them on a Ray cluster instead: each node runs as many as its ``reprobox`` resource says.
    """
    from reprobox.batch.driver import LocalRunner, Runner

    config = BoxConfig(
        image=image,
        policy=policy or Policy(),
        backend=check_backend(backend),
        mounts=tuple(m if isinstance(m, Mount) else Mount.parse(m) for m in mounts),
        labels=tuple(sorted((labels or {}).items())),
    )
    runner: Runner
    if cluster is None:
        runner = LocalRunner(config, workers)
    else:
        from reprobox.batch.cluster import RayRunner

        runner = RayRunner(config, cluster)
    return runner.results(_as_job(job) for job in jobs)


def _as_job(job: Job | Mapping[str, Any]) -> Job:
    if isinstance(job, Job):
        return job
    from reprobox import errors

    try:
        return Job.from_json(dict(job))
    except ValueError as exc:
        raise errors.UsageError(f"job {job.get('id')!r}: {exc}") from exc
