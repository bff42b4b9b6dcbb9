"""``reprobox batch`` as a user runs it: SIGKILL mid-batch then resume, every id exactly once."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest

from reprobox.batch import Job
from tests.e2e.batch_support import REPROBOX, batch, by_id, label_args, results, write_jobs

pytestmark = pytest.mark.e2e


def batch_args(
    tmp_path: Path, jobs: list[Job], out: Path, image: str, labels: dict[str, str]
) -> list[str]:
    """The arguments of a 2-worker batch of ``jobs`` into ``out``."""
    path = write_jobs(tmp_path / "jobs.jsonl", jobs)
    return [str(path), "--out", str(out), "--image", image, "--workers", "2", *label_args(labels)]


def wait_for_lines(path: Path, count: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if path.exists() and path.read_bytes().count(b"\n") >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"no {count} result lines in time")


def test_sigkill_mid_batch_then_resume_gives_every_id_exactly_once(
    base_image: str, tmp_path: Path, labels: dict[str, str]
) -> None:
    jobs = [
        Job(f"j{i}", f"sleep 0.2; echo {i}", stdin=None if i % 2 else f"in{i}") for i in range(30)
    ]
    out = tmp_path / "out.jsonl"
    args = batch_args(tmp_path, jobs, out, base_image, labels)
    proc = subprocess.Popen([*REPROBOX, "batch", *args])
    try:
        wait_for_lines(out, 5, proc)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    before = results(out)
    assert 5 <= len(before) < 30
    # A write cut short by the kill leaves a last line without its newline: not to be trusted.
    torn = b'{"id": "j29", "exit_code": 0, "stdout": "29'
    with out.open("ab") as handle:
        handle.write(torn)
    done = batch(*args)
    assert done.returncode == 0, done.stderr
    found = by_id(out)
    assert sorted(found) == sorted(j.id for j in jobs)
    assert all(found[f"j{i}"]["stdout"] == f"{i}\n" for i in range(30))
    assert found["j29"]["exit_code"] == 0
    assert f"{len(before)} jobs skipped: already in the results file" in done.stdout
    assert f"cut {len(torn)} bytes of an unfinished last line off the results file" in done.stdout


def test_files_stdin_and_job_timeouts_reach_the_box(
    base_image: str, tmp_path: Path, labels: dict[str, str]
) -> None:
    jobs = [
        Job(
            "files",
            ("python3", "pkg/main.py"),
            (("pkg/main.py", "import sys; print(sys.stdin.read().upper())"),),
            "hi",
        ),
        Job("timeout", ("sleep", "30"), timeout_s=1),
        Job("code", "exit 4"),
    ]
    out = tmp_path / "out.jsonl"
    done = batch(
        write_jobs(tmp_path / "jobs.jsonl", jobs),
        "--out",
        out,
        "--image",
        base_image,
        *label_args(labels),
    )
    assert done.returncode == 0, done.stderr
    found = by_id(out)
    assert found["files"]["stdout"] == "HI\n"
    assert found["timeout"]["timed_out"] and 1 <= found["timeout"]["duration_s"] < 10
    assert found["code"]["exit_code"] == 4
    assert done.stdout.splitlines()[0].endswith("1 ok, 1 failed, 1 timed out, 0 error")


def test_a_missing_image_stops_the_batch_with_exit_3_and_no_result_lines(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    path = write_jobs(tmp_path / "jobs.jsonl", [Job(i, "true") for i in range(5)])
    done = batch(path, "--out", out, "--image", "reprobox/no-such-image:1")
    assert done.returncode == 3
    assert done.stderr.splitlines()[0].startswith(
        "error: image reprobox/no-such-image:1 is not on this engine"
    )
    assert out.read_text() == ""


def test_ctrl_c_exits_130_keeps_finished_results_and_a_rerun_completes(
    base_image: str, tmp_path: Path, labels: dict[str, str]
) -> None:
    jobs = [Job(i, f"sleep 1; echo {i}") for i in range(12)]
    out = tmp_path / "out.jsonl"
    args = batch_args(tmp_path, jobs, out, base_image, labels)
    proc = subprocess.Popen([*REPROBOX, "batch", *args], stderr=subprocess.PIPE, text=True)
    try:
        wait_for_lines(out, 2, proc)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130
    assert stderr.strip().splitlines()[-1] == (
        "interrupted: finished results are kept; run the same command to resume"
    )
    kept = by_id(out)
    assert 2 <= len(kept) < 12
    done = batch(*args)
    assert done.returncode == 0, done.stderr
    assert sorted(by_id(out)) == list(range(12))
