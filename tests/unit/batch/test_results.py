"""The results file: durable appends, resume by id, a torn last line cut off, not trusted."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from reprobox import errors
from reprobox.batch.results import JobResult, ResultLog
from reprobox.sandbox.result import RunResult


def test_result_lines_have_exactly_the_documented_fields() -> None:
    run = RunResult(exit_code=1, stdout=b"o\xff", stderr=b"e", duration_s=0.12345, timed_out=False)
    assert json.loads(JobResult.from_run("a", run).line()) == {
        "id": "a",
        "exit_code": 1,
        "stdout": "o\ufffd",
        "stderr": "e",
        "timed_out": False,
        "oom_killed": False,
        "duration_s": 0.123,
    }
    failed = JobResult.failed(7, "no such runtime", 0.5, node="n1")
    assert json.loads(failed.line()) == {
        "id": 7,
        "error": "no such runtime",
        "duration_s": 0.5,
        "node": "n1",
    }


@pytest.mark.parametrize(
    ("result", "status"),
    [
        (JobResult("a", 0), "ok"),
        (JobResult("a", 1), "failed"),
        (JobResult("a", 137, oom_killed=True), "failed"),
        (JobResult("a", 137, timed_out=True), "timed out"),
        (JobResult.failed("a", "x"), "error"),
    ],
)
def test_status(result: JobResult, status: str) -> None:
    assert result.status == status


def test_appends_survive_and_resume_reads_the_ids(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    with ResultLog.open(path) as log:
        assert log.done.ids == set()
        log.append(JobResult("a", 0))
        log.append(JobResult.failed(2, "boom"))
    with ResultLog.open(path) as log:
        assert (log.done.ids, log.done.errors, log.done.torn_bytes) == ({"a", 2}, {2}, 0)


def test_a_torn_last_line_is_cut_off_not_trusted(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    whole = JobResult("a", 0).line()
    torn = JobResult("b", 0).line()[:-1]  # complete JSON, but no newline: not trusted
    path.write_bytes(whole + torn)
    with ResultLog.open(path) as log:
        assert log.done.ids == {"a"}
        assert log.done.torn_bytes == len(torn)
        log.append(JobResult("b", 1))
    lines = path.read_bytes().splitlines()
    assert [json.loads(x)["id"] for x in lines] == ["a", "b"]
    assert json.loads(lines[1])["exit_code"] == 1


def test_a_foreign_line_is_a_usage_error_with_its_number(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    path.write_bytes(JobResult("a", 0).line() + b"hello\n")
    with pytest.raises(errors.UsageError, match=r"out.jsonl:2: not a result line"):
        ResultLog.open(path)


def test_each_append_is_flushed_to_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[int] = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real(fd)))
    with ResultLog.open(tmp_path / "out.jsonl") as log:
        before = len(synced)
        log.append(JobResult("a", 0))
        log.append(JobResult("b", 0))
        assert len(synced) - before == 2
