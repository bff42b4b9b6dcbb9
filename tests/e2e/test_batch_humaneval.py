"""``reprobox batch`` on HumanEval for real: the package's 164 problems, a fresh box each.

Canonical solutions all pass; ``while True: pass`` solutions all time out at the job timeout
while the host stays responsive; hostile solutions are contained and reported failed, each
beside a control that shows which limit stopped it.
"""

from __future__ import annotations

import statistics
import subprocess
import threading
import time
from pathlib import Path

import pytest

from reprobox.batch import Job
from reprobox.batch.humaneval import job as humaneval_job
from tests.e2e.batch_support import (
    batch,
    by_id,
    humaneval_jobs,
    label_args,
    labelled_boxes,
    problems,
    write_jobs,
)
from tests.e2e.oci_support import require_oci_tools
from tests.e2e.test_sandbox_support import CASE_LABEL, host_listener, leftovers

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_canonical_solutions_all_pass_on_oci(
    base_image: str, tmp_path: Path, labels: dict[str, str]
) -> None:
    require_oci_tools()
    jobs = write_jobs(tmp_path / "jobs.jsonl", humaneval_jobs(lambda p: p["canonical_solution"]))
    out = tmp_path / "out.jsonl"
    args = ["--image", base_image, "--backend", "oci", "--timeout", "20", *label_args(labels)]
    done = batch(jobs, "--out", out, *args)
    assert done.returncode == 0, done.stderr
    found = by_id(out)
    assert sorted(found) == sorted(p["task_id"] for p in problems())
    failed = {i: r["stderr"][-300:] for i, r in found.items() if r["exit_code"] != 0}
    assert failed == {}
    assert done.stdout.splitlines()[0].endswith("164 ok, 0 failed, 0 timed out, 0 error")
    assert labelled_boxes(CASE_LABEL, labels[CASE_LABEL]) == set()


def _probe_host(stop: threading.Event, delays: list[float], count: int | None = None) -> None:
    """How long the host takes to start and finish a small process (``count`` times, or
    until ``stop``)."""
    while not stop.is_set() and (count is None or len(delays) < count):
        started = time.monotonic()
        subprocess.run(["true"], check=True)
        delays.append(time.monotonic() - started)
        stop.wait(0.2)


def test_infinite_loops_all_time_out_and_the_host_stays_responsive(
    base_image: str, tmp_path: Path
) -> None:
    require_oci_tools()
    loop = "    while True:\n        pass\n"
    jobs = write_jobs(tmp_path / "jobs.jsonl", humaneval_jobs(lambda p: loop, timeout_s=1.0))
    out = tmp_path / "out.jsonl"
    stop, baseline, delays = threading.Event(), list[float](), list[float]()
    _probe_host(stop, baseline, count=10)  # the shared machine's own load, before the batch
    prober = threading.Thread(target=_probe_host, args=(stop, delays))
    prober.start()
    try:
        args = ("--image", base_image, "--backend", "oci", "--workers", "4", "--cpus", "0.25")
        done = batch(jobs, "--out", out, *args)
    finally:
        stop.set()
        prober.join()
    found = by_id(out)
    assert [r for r in found.values() if not r.get("timed_out")] == []
    assert done.returncode == 0, done.stderr
    assert len(found) == 164
    durations = [r["duration_s"] for r in found.values()]
    assert min(durations) >= 1.0 and max(durations) < 15.0, (min(durations), max(durations))
    assert "0 ok, 0 failed, 164 timed out, 0 error" in done.stdout
    # Each box burns a quarter of a CPU at most: starting a process on the host stays about as
    # quick as before the batch (generous margins: the machine is shared).
    before = statistics.median(baseline)
    assert statistics.median(delays) < max(0.5, 4 * before), (before, sorted(delays))
    assert max(delays) < 10.0, (before, sorted(delays))


HOSTILE = {
    "fork-bomb": "    import os\n    while True:\n        os.fork()\n",
    "memory-bomb": "    hog = []\n    while True:\n        hog.append(bytearray(1 << 24))\n",
    "write-root": "    open('/owned', 'w').write('x')\n",
}


def _socket_completion(port: int) -> str:
    return (
        "    import socket\n"
        f"    print(socket.create_connection(('127.0.0.1', {port}), timeout=3).recv(64))\n"
    )


@pytest.mark.parametrize("backend", ["oci", "engine"])
def test_hostile_solutions_are_contained_and_reported_failed(
    base_image: str, tmp_path: Path, labels: dict[str, str], backend: str
) -> None:
    if backend == "oci":
        require_oci_tools()
    problem = problems()[0]
    with host_listener() as (port, token):
        completions = {**HOSTILE, "socket": _socket_completion(port)}
        jobs: list[Job] = [
            humaneval_job(problem, code, job_id=name) for name, code in completions.items()
        ]
        jobs.append(humaneval_job(problem, problem["canonical_solution"], job_id="control"))
        out = tmp_path / "out.jsonl"
        args = ["--image", base_image, "--backend", backend, "--memory", "128m", "--timeout", "20"]
        done = batch(
            write_jobs(tmp_path / "jobs.jsonl", jobs), "--out", out, *args, *label_args(labels)
        )
        # The control: the same socket job with the host's network reaches the listener.
        host_out = tmp_path / "host.jsonl"
        reach = batch(
            write_jobs(tmp_path / "host.jsonl.in", jobs[3:4]),
            "--out",
            host_out,
            *args,
            "--network",
            "host",
            *label_args(labels),
        )
    assert done.returncode == 0, done.stderr
    found = by_id(out)
    assert found["control"]["exit_code"] == 0
    for name in completions:
        result = found[name]
        assert result["exit_code"] != 0 and not result["timed_out"], (name, result)
    # Each attack was stopped by the limit it names, not by a timeout or something else.
    assert "BlockingIOError" in found["fork-bomb"]["stderr"]  # the process limit
    assert found["memory-bomb"]["oom_killed"] or "MemoryError" in found["memory-bomb"]["stderr"]
    assert "Read-only file system" in found["write-root"]["stderr"]
    assert "ConnectionRefusedError" in found["socket"]["stderr"]
    assert reach.returncode == 0, reach.stderr
    assert by_id(host_out)["socket"]["stdout"].strip() == repr(token)
    assert "4 failed" in done.stdout
    if backend == "engine":
        assert leftovers(labels) == []
