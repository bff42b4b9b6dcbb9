"""``reprobox batch``'s command line: bad input is one line per bad job line and exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from reprobox.cli.main import cli


def run(*args: str) -> tuple[int, str, str]:
    done = CliRunner().invoke(cli, ["batch", *args])
    return done.exit_code, done.stdout, done.stderr


def test_bad_lines_are_listed_with_numbers_and_nothing_runs(tmp_path: Path) -> None:
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text('{"id": 1, "command": "true"}\n{"id": 1, "command": "x"}\n{oops\n')
    out = tmp_path / "out.jsonl"
    code, stdout, stderr = run(str(jobs), "--out", str(out), "--image", "nothing:here")
    assert code == 2
    assert stderr.splitlines() == [
        f"error: {jobs}:2: duplicate id 1 (first on line 1)",
        f"error: {jobs}:3: not JSON: Expecting property name enclosed in double quotes at column 2",
        "2 bad lines; no job was run",
    ]
    assert stdout == "" and not out.exists()


def test_out_is_required_and_workers_must_be_positive(tmp_path: Path) -> None:
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text('{"id": 1, "command": "true"}\n')
    assert run(str(jobs))[0] == 2
    code, _, stderr = run(str(jobs), "--out", str(tmp_path / "o"), "--workers", "0")
    assert code == 2 and "--workers" in stderr


def test_a_missing_jobs_file_is_exit_2(tmp_path: Path) -> None:
    code, _, stderr = run(str(tmp_path / "none.jsonl"), "--out", str(tmp_path / "o"))
    assert code == 2 and "does not exist" in stderr


def test_a_foreign_results_file_is_exit_2_and_left_alone(tmp_path: Path) -> None:
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text('{"id": 1, "command": "true"}\n')
    out = tmp_path / "out.jsonl"
    out.write_text("not mine\n")
    code, _, stderr = run(str(jobs), "--out", str(out), "--image", "x")
    assert code == 2
    assert stderr.splitlines()[0] == f"error: {out}:1: not a result line of reprobox batch"
    assert out.read_text() == "not mine\n"


def test_cluster_without_ray_is_one_line_and_exit_3(tmp_path: Path) -> None:
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text('{"id": 1, "command": "true"}\n')
    code = (
        "import sys; sys.modules['ray'] = None\n"
        "from reprobox.cli.main import main; sys.argv = ['reprobox'] + sys.argv[1:]; main()"
    )
    args = ["batch", str(jobs), "--out", str(tmp_path / "o"), "--image", "x", "--cluster", "auto"]
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=False
    )
    assert done.returncode == 3
    assert done.stderr.splitlines() == [
        "error: Ray is not installed (PyPI package reprobox[ray]): reprobox batch --cluster "
        "runs its jobs on a Ray cluster",
        "hint: install it: pip install 'reprobox[ray]'",
    ]
