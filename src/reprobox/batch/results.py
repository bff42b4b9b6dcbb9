"""Batch results: one JSON line per job, appended durably, read back to resume.

Each line is written with one ``write`` of the whole line and its newline, then flushed to
disk (``fsync``) before the next job's result. A process killed mid-write can leave at most a
last line without its newline; :meth:`ResultLog.open` cuts it off rather than trust it, so
that job runs again.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reprobox import errors
from reprobox.batch.jobs import JobId
from reprobox.sandbox.result import RunResult


@dataclass(frozen=True)
class JobResult:
    """What one job did; ``error`` (and no exit code) when its box could not run."""

    id: JobId
    exit_code: int | None
    stdout: str = ""
    stderr: str = ""
    timed_out: bool = False
    oom_killed: bool = False
    duration_s: float = 0.0
    node: str | None = None
    error: str | None = None

    @classmethod
    def from_run(cls, job_id: JobId, run: RunResult, node: str | None = None) -> JobResult:
        return cls(
            id=job_id,
            exit_code=run.exit_code,
            stdout=run.stdout_text,
            stderr=run.stderr_text,
            timed_out=run.timed_out,
            oom_killed=run.oom_killed,
            duration_s=round(run.duration_s, 3),
            node=node,
        )

    @classmethod
    def failed(
        cls, job_id: JobId, error: str, duration_s: float = 0.0, node: str | None = None
    ) -> JobResult:
        return cls(
            id=job_id, exit_code=None, duration_s=round(duration_s, 3), node=node, error=error
        )

    @property
    def status(self) -> str:
        """``ok``, ``failed``, ``timed out`` or ``error`` (the summary's four counts)."""
        if self.error is not None:
            return "error"
        if self.timed_out:
            return "timed out"
        return "ok" if self.exit_code == 0 else "failed"

    def to_json(self) -> dict[str, Any]:
        """The result line's fields: ``error`` replaces the run's fields; ``node`` only when
        the job ran on a cluster."""
        data: dict[str, Any] = {"id": self.id}
        if self.error is not None:
            data.update(error=self.error, duration_s=self.duration_s)
        else:
            data.update(
                exit_code=self.exit_code,
                stdout=self.stdout,
                stderr=self.stderr,
                timed_out=self.timed_out,
                oom_killed=self.oom_killed,
                duration_s=self.duration_s,
            )
        if self.node is not None:
            data["node"] = self.node
        return data

    def line(self) -> bytes:
        return (json.dumps(self.to_json(), ensure_ascii=False) + "\n").encode()


@dataclass
class Done:
    """The ids a results file already holds, and which of them are errors."""

    ids: set[JobId] = field(default_factory=set)
    errors: set[JobId] = field(default_factory=set)
    torn_bytes: int = 0


class ResultLog:
    """A results file opened for durable appends (see the module's docstring)."""

    def __init__(self, path: Path, fd: int, done: Done) -> None:
        self.path = path
        self._fd = fd
        self.done = done

    @classmethod
    def open(cls, path: Path) -> ResultLog:
        """Open (or create) ``path``, cut a torn last line off, and read the ids it holds."""
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise errors.UsageError(f"cannot open {path}: {exc.strerror or exc}") from exc
        try:
            done = _recover(path, fd)
        except BaseException:
            os.close(fd)
            raise
        return cls(path, fd, done)

    def append(self, result: JobResult) -> None:
        """Write ``result``'s line and flush it to disk before returning."""
        data = result.line()
        try:
            while data:
                data = data[os.write(self._fd, data) :]
            os.fsync(self._fd)
        except OSError as exc:
            raise errors.ReproboxError(
                f"cannot write {self.path}: {exc.strerror or exc}",
                "free space or fix the file's permissions, then run again: finished jobs are kept",
            ) from exc

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> ResultLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _recover(path: Path, fd: int) -> Done:
    """Read the ids of ``path``'s complete lines; truncate whatever follows the last newline."""
    done = Done()
    good_end = 0
    with open(fd, "rb", closefd=False) as handle:
        handle.seek(0)
        for number, raw in enumerate(handle, start=1):
            if not raw.endswith(b"\n"):
                break
            good_end += len(raw)
            if raw.strip():
                _remember(done, path, number, raw)
        size = handle.seek(0, os.SEEK_END)
    if size > good_end:
        done.torn_bytes = size - good_end
        os.ftruncate(fd, good_end)
        os.fsync(fd)
    return done


def _remember(done: Done, path: Path, number: int, raw: bytes) -> None:
    try:
        data = json.loads(raw)
        job_id = data["id"]
        if isinstance(job_id, bool) or not isinstance(job_id, str | int):
            raise TypeError(job_id)
    except (ValueError, TypeError, KeyError) as exc:
        raise errors.UsageError(
            f"{path}:{number}: not a result line of reprobox batch",
            "pass another --out file, or remove that line",
        ) from exc
    done.ids.add(job_id)
    if data.get("error") is not None:
        done.errors.add(job_id)
