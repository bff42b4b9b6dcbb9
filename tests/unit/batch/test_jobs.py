"""The jobs file: every bad line reported with its number and reason, nothing else kept."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from reprobox.batch.command import job_argv
from reprobox.batch.jobs import BadJobs, Job, check_jobs, parse_line, read_jobs


def write(path: Path, *lines: str) -> Path:
    path.write_text("".join(line + "\n" for line in lines))
    return path


def test_a_full_job_round_trips() -> None:
    data = {
        "id": "a",
        "command": ["python3", "x.py"],
        "files": {"x.py": "print(1)"},
        "stdin": "in",
        "timeout_s": 2,
    }
    job = parse_line(json.dumps(data))
    assert job == Job("a", ("python3", "x.py"), (("x.py", "print(1)"),), "in", 2.0)
    assert job.to_json() == {**data, "timeout_s": 2.0}


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("{not json", "not JSON: Expecting property name enclosed in double quotes at column 2"),
        ("[1]", "a job must be a JSON object"),
        ('{"command": ["true"]}', "missing field 'id'"),
        ('{"id": 1}', "missing field 'command'"),
        ('{"id": true, "command": "x"}', "'id' must be a string or an integer"),
        ('{"id": 1, "command": []}', "'command' must be a string or a non-empty list of strings"),
        ('{"id": 1, "command": "  "}', "'command' is empty"),
        (
            '{"id": 1, "command": "x", "cmd": 1}',
            "unknown field 'cmd' (fields: command, files, id, stdin, timeout_s)",
        ),
        ('{"id": 1, "command": "x", "timeout_s": 0}', "'timeout_s' must be positive"),
        (
            '{"id": 1, "command": "x", "files": {"/etc/x": ""}}',
            "file path '/etc/x' must be relative, inside the working folder",
        ),
        (
            '{"id": 1, "command": "x", "files": {"a/../../x": ""}}',
            "file path 'a/../../x' must be relative, inside the working folder",
        ),
        ('{"id": 1, "command": "x", "files": {"a": 1}}', "'files'['a'] must be text"),
        (
            '{"id": 1, "command": "x", "stdin": "a\\u0000"}',
            "stdin contains a NUL character, which no command argument can hold",
        ),
    ],
)
def test_bad_lines_say_why(line: str, reason: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_line(line)
    assert str(caught.value) == reason


def test_too_large_files_are_refused_before_running() -> None:
    big = "x" * (128 * 1024)
    with pytest.raises(ValueError, match="larger than 128 KiB"):
        parse_line(json.dumps({"id": 1, "command": "x", "files": {"a": big}}))


def test_check_reports_every_bad_line_with_its_number(tmp_path: Path) -> None:
    path = write(
        tmp_path / "jobs.jsonl",
        '{"id": "a", "command": "true"}',
        "",
        '{"id": "b"}',
        '{"id": "a", "command": "false"}',
        '{"id": 1, "command": "true"}',
        '{"id": "1", "command": "true"}',
    )
    with pytest.raises(BadJobs) as caught:
        check_jobs(path)
    found = [(b.line, b.reason) for b in caught.value.bad]
    assert found == [(3, "missing field 'command'"), (4, "duplicate id 'a' (first on line 1)")]
    assert caught.value.total_bad == 2


def test_check_counts_jobs_and_read_is_lazy(tmp_path: Path) -> None:
    path = write(
        tmp_path / "jobs.jsonl", *(json.dumps({"id": i, "command": "true"}) for i in range(5))
    )
    assert check_jobs(path) == 5
    jobs = read_jobs(path)
    assert next(jobs).id == 0


def test_not_utf8_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "jobs.jsonl"
    path.write_bytes(b'{"id": "\xff", "command": "x"}\n')
    with pytest.raises(Exception, match="not UTF-8"):
        check_jobs(path)


def sh(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)


def test_the_wrapper_writes_files_and_feeds_stdin(tmp_path: Path) -> None:
    text = "line 1\n$HOME `x` 'q' \"d\" \\n no newline at end"
    job = Job(1, "cat sub/dir/f.txt; echo; cat; exit 3", (("sub/dir/f.txt", text),), "in\nput")
    done = sh(job_argv(job), tmp_path)
    assert (done.returncode, done.stdout) == (3, f"{text}\nin\nput")
    assert (tmp_path / "sub/dir/f.txt").read_text() == text


def test_without_stdin_the_command_reads_nothing(tmp_path: Path) -> None:
    job = Job(1, ("sh", "-c", "cat; echo rc=$?"), (("a", "x"),))
    assert sh(job_argv(job), tmp_path).stdout == "rc=0\n"


def test_a_plain_job_runs_its_command_as_is() -> None:
    assert job_argv(Job(1, ("python3", "-c", "1"))) == ["python3", "-c", "1"]
    assert job_argv(Job(1, "echo a | wc")) == ["sh", "-c", "echo a | wc"]
