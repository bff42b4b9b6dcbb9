"""Batch jobs: one JSON object a line, checked whole before anything runs.

A job is ``{"id": ..., "command": ...}`` with optional ``files`` (relative path -> text,
written into the box's working folder first), ``stdin`` (text) and ``timeout_s``. ``id`` is a
string or an integer, unique in the file; ``command`` is a list of arguments, or a string run
by ``sh -c``.
"""

from __future__ import annotations

import json
import math
import posixpath
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reprobox import errors

JobId = str | int
FIELDS = frozenset({"id", "command", "files", "stdin", "timeout_s"})
# Files and stdin reach the box as arguments of its command; the kernel caps one at 128 KiB.
MAX_TEXT_BYTES = 128 * 1024 - 1
MAX_TOTAL_BYTES = 1 << 20
SHOWN_ERRORS = 10


@dataclass(frozen=True)
class Job:
    """One untrusted command to run in a fresh box."""

    id: JobId
    command: str | tuple[str, ...]
    files: tuple[tuple[str, str], ...] = ()
    stdin: str | None = None
    timeout_s: float | None = None

    @classmethod
    def from_json(cls, data: Any) -> Job:
        """The job a decoded JSON line describes; :class:`ValueError` says what is wrong."""
        if not isinstance(data, dict):
            raise ValueError("a job must be a JSON object")
        unknown = sorted(set(data) - FIELDS)
        if unknown:
            raise ValueError(f"unknown field {unknown[0]!r} (fields: {', '.join(sorted(FIELDS))})")
        for name in ("id", "command"):
            if name not in data:
                raise ValueError(f"missing field {name!r}")
        job = cls(
            id=_job_id(data["id"]),
            command=_command(data["command"]),
            files=_files(data.get("files")),
            stdin=_text_or_none(data.get("stdin"), "stdin"),
            timeout_s=_timeout(data.get("timeout_s")),
        )
        _check_size(job)
        return job

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "command": _plain_command(self.command)}
        if self.files:
            data["files"] = dict(self.files)
        if self.stdin is not None:
            data["stdin"] = self.stdin
        if self.timeout_s is not None:
            data["timeout_s"] = self.timeout_s
        return data


@dataclass(frozen=True)
class BadLine:
    """A line of the jobs file that is not a valid job."""

    line: int
    reason: str


class BadJobs(errors.UsageError):
    """The jobs file has bad lines; nothing was run."""

    def __init__(self, path: str, bad: list[BadLine], total_bad: int) -> None:
        shown = "; ".join(f"{path}:{b.line}: {b.reason}" for b in bad[:1])
        more = f" (and {total_bad - 1} more bad lines)" if total_bad > 1 else ""
        super().__init__(f"{shown}{more}", "fix the jobs file; nothing was run (exit 2)")
        self.path = path
        self.bad = bad
        self.total_bad = total_bad


def _job_id(value: Any) -> JobId:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError("'id' must be a string or an integer")
    if isinstance(value, str) and not value:
        raise ValueError("'id' must not be empty")
    return value


def _command(value: Any) -> str | tuple[str, ...]:
    if isinstance(value, str):
        if not value.strip():
            raise ValueError("'command' is empty")
        _no_nul(value, "command")
        return value
    if isinstance(value, list) and value and all(isinstance(a, str) for a in value):
        for arg in value:
            _no_nul(arg, "command")
        return tuple(value)
    raise ValueError("'command' must be a string or a non-empty list of strings")


def _files(value: Any) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise ValueError("'files' must be an object of path -> text")
    files = []
    for path, text in value.items():
        _check_path(path)
        if not isinstance(text, str):
            raise ValueError(f"'files'[{path!r}] must be text")
        _no_nul(text, f"files[{path!r}]")
        files.append((path, text))
    return tuple(files)


def _check_path(path: str) -> None:
    norm = posixpath.normpath(path) if path else ""
    if not path or path.startswith("/") or norm == "." or norm.split("/")[0] == "..":
        raise ValueError(f"file path {path!r} must be relative, inside the working folder")
    _no_nul(path, "a file path")


def _text_or_none(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{name!r} must be text")
    _no_nul(value, name)
    return value


def _timeout(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("'timeout_s' must be a number of seconds")
    if not math.isfinite(value) or value <= 0:
        raise ValueError("'timeout_s' must be positive")
    return float(value)


def _no_nul(text: str, what: str) -> None:
    if "\x00" in text:
        raise ValueError(f"{what} contains a NUL character, which no command argument can hold")


def _check_size(job: Job) -> None:
    texts = [t for _, t in job.files] + ([job.stdin] if job.stdin is not None else [])
    sizes = [len(t.encode()) for t in texts]
    if any(size > MAX_TEXT_BYTES for size in sizes):
        raise ValueError("a file or stdin is larger than 128 KiB (the most one argument holds)")
    if sum(sizes) > MAX_TOTAL_BYTES:
        raise ValueError("files and stdin together are larger than 1 MiB")


def _plain_command(command: str | tuple[str, ...]) -> str | list[str]:
    return command if isinstance(command, str) else list(command)


def parse_line(text: str) -> Job:
    """One line of a jobs file -> a :class:`Job` (:class:`ValueError` when it is not one)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc.msg} at column {exc.colno}") from exc
    return Job.from_json(data)


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """Numbered non-blank lines of ``path`` (a UTF-8 text file), read lazily."""
    try:
        with path.open(encoding="utf-8") as handle:
            for number, text in enumerate(handle, start=1):
                if text.strip():
                    yield number, text
    except UnicodeDecodeError as exc:
        raise errors.UsageError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    except OSError as exc:
        raise errors.UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc


def check_jobs(path: Path) -> int:
    """Read every line of ``path`` and return how many jobs it holds; :class:`BadJobs` (with
    line numbers and reasons) when any line is malformed, lacks a field or repeats an id.
    Only the ids are kept, so this is flat in memory for any number of jobs."""
    seen: dict[JobId, int] = {}
    bad: list[BadLine] = []
    total_bad = 0
    for number, text in _lines(path):
        try:
            job = parse_line(text)
        except ValueError as exc:
            reason = str(exc)
        else:
            first = seen.setdefault(job.id, number)
            if first == number:
                continue
            reason = f"duplicate id {job.id!r} (first on line {first})"
        total_bad += 1
        if len(bad) < SHOWN_ERRORS:
            bad.append(BadLine(number, reason))
    if bad:
        raise BadJobs(str(path), bad, total_bad)
    return len(seen)


def read_jobs(path: Path) -> Iterator[Job]:
    """The jobs of ``path``, lazily (check the file first with :func:`check_jobs`)."""
    for _, text in _lines(path):
        yield parse_line(text)


def unique(jobs: Iterable[Job]) -> Iterator[Job]:
    """``jobs``, refusing a repeated id (for jobs that come from code, not a checked file)."""
    seen: set[JobId] = set()
    for job in jobs:
        if job.id in seen:
            raise errors.UsageError(f"duplicate job id {job.id!r}")
        seen.add(job.id)
        yield job
