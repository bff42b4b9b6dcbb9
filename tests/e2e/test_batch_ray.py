"""``reprobox batch --cluster`` on a real 2-node Ray cluster started by the test, inside a
network namespace of its own where 127.0.0.1 is the only address (Ray never sees another
interface): both nodes serve, the second is removed mid-batch, and every id still has exactly
one result line; boxes of the lost node die by their deadline. The same through Ray Client
(``ray://``), and a ``ray://`` address where nothing listens."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from reprobox.batch import Job
from tests.e2e.batch_support import (
    box_processes,
    by_id,
    labelled_boxes,
    remove_lost_boxes,
    write_jobs,
)
from tests.e2e.oci_support import require_oci_tools

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
SCRIPT = Path(__file__).with_name("ray_batch_cluster.py")
REPO = Path(__file__).resolve().parents[2]
JOBS = 200
CLIENT_JOBS = 24
CASE = "io.reprobox.test.batch-case"


def require_namespace_and_ray() -> None:
    pytest.importorskip("ray", reason="the ray extra (pip install 'reprobox[ray]')")
    if os.geteuid() != 0 or not (shutil.which("unshare") and shutil.which("ip")):
        pytest.skip("a private network namespace needs root, unshare and ip")


def in_private_network(*argv: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """``argv`` in a new network namespace with only the loopback interface up."""
    inner = " ".join(["ip link set lo up && exec", *(f"'{a}'" for a in argv)])
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "PYTHONPATH": str(REPO)}
    return subprocess.run(
        ["unshare", "--net", "sh", "-c", inner],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


def cluster_batch(
    tmp_path: Path, jobs: list[Job], image: str, label: str, *options: str
) -> tuple[dict[str, Any], dict[Any, dict[str, Any]]]:
    """``reprobox batch`` of ``jobs`` on a 2-node cluster in a private network namespace: the
    report of ``ray_batch_cluster.py`` and the result lines by id."""
    path = write_jobs(tmp_path / "jobs.jsonl", jobs)
    out = tmp_path / "out.jsonl"
    done = in_private_network(
        *(sys.executable, str(SCRIPT), str(path), str(out), image, "oci", label, *options),
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["returncode"] == 0, report["stderr"][-3000:]
    return report, by_id(out)


def test_two_nodes_serve_and_a_lost_node_loses_no_job(base_image: str, tmp_path: Path) -> None:
    require_namespace_and_ray()
    require_oci_tools()
    case = uuid.uuid4().hex
    jobs = [Job(i, f"sleep 0.2; echo {i}") for i in range(JOBS)]
    label = f"{CASE}={case}"
    report, found = cluster_batch(tmp_path, jobs, base_image, label, "--remove-after", "40")
    assert report["removed_at"] is not None, "the second node never served before removal"
    assert sorted(found) == list(range(JOBS))
    wrong = {
        i: r for i, r in found.items() if (r.get("exit_code"), r.get("stdout")) != (0, f"{i}\n")
    }
    assert wrong == {}
    nodes = {r["node"] for r in found.values()}
    assert len(nodes) == 2 and any(report["second"][:8] in n for n in nodes)
    summary = report["stdout"]
    assert f"{JOBS} jobs run" in summary and f"{JOBS} ok" in summary
    assert "ran again on another node after their node was lost" in summary, summary
    # The lost node's boxes die with it: when Ray removes a node it kills its workers' child
    # processes too (the boxes' supervisors among them), so nothing of them runs on; what the
    # runtime kept of them (state, cgroup, bundle) is removed here.
    lost = labelled_boxes(CASE, case)
    try:
        deadline = time.monotonic() + 40  # the policy's 30 s deadline, and a margin
        while any(box_processes(b) for b in lost) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert [b for b in lost if box_processes(b)] == []
    finally:
        remove_lost_boxes(lost)
    assert labelled_boxes(CASE, case) == set()


def test_a_batch_through_ray_client_runs_each_job_once_on_the_cluster(
    base_image: str, tmp_path: Path
) -> None:
    require_namespace_and_ray()
    require_oci_tools()
    client_batch(tmp_path, base_image)


@pytest.mark.skipif(
    os.environ.get("REPROBOX_RAY_FAULT_TESTS") != "1",
    reason="costs about a minute of Ray's own waiting: set REPROBOX_RAY_FAULT_TESTS=1",
)
def test_a_ray_client_server_lost_at_birth_is_tried_again(base_image: str, tmp_path: Path) -> None:
    require_namespace_and_ray()
    require_oci_tools()
    # The head's Ray Client server loses the first server it starts for the driver at birth,
    # as Ray sometimes does (ray-project/ray#63202): the driver connects again.
    died = tmp_path / "client-server-died"
    client_batch(tmp_path, base_image, "--client-server-dies-once", str(died))
    assert died.exists(), "the fault was not injected: no Ray Client server died"


def client_batch(tmp_path: Path, image: str, *options: str) -> None:
    """24 jobs through ``ray://`` to the head's Ray Client server: each id once, each run in a
    worker on a node of the cluster (never in the driver), both nodes serving."""
    jobs = [Job(f"c{i}", f"echo {i}") for i in range(CLIENT_JOBS)]
    label = f"{CASE}={uuid.uuid4().hex}"
    report, found = cluster_batch(tmp_path, jobs, image, label, "--ray-client", *options)
    assert sorted(found) == sorted(j.id for j in jobs)
    wrong = {
        i: r for i, r in found.items() if (r.get("exit_code"), r.get("stdout")) != (0, f"{i[1:]}\n")
    }
    assert wrong == {}
    nodes = {r["node"].split("/")[-1] for r in found.values()}
    assert nodes == {report["head"][:8], report["second"][:8]}
    assert f"{CLIENT_JOBS} jobs run" in report["stdout"] and f"{CLIENT_JOBS} ok" in report["stdout"]


def test_a_ray_client_address_where_nothing_listens_is_one_line_and_exit_3(
    tmp_path: Path,
) -> None:
    require_namespace_and_ray()
    path = write_jobs(tmp_path / "jobs.jsonl", [Job(1, "true")])
    out = tmp_path / "out.jsonl"
    argv = [sys.executable, "-m", "reprobox", "batch", str(path), "--out", str(out)]
    started = time.monotonic()
    done = in_private_network(*argv, "--cluster", "ray://127.0.0.1:10001", timeout=120)
    took = time.monotonic() - started
    assert done.returncode == 3, done.stderr
    assert done.stderr.splitlines() == [
        "error: cannot connect to the Ray cluster at ray://127.0.0.1:10001: nothing answers at "
        "127.0.0.1:10001 (Connection refused)",
        "hint: start its head with 'ray start --head --ray-client-server-port PORT --resources "
        "'{\"reprobox\": N}'' and pass that address (or 'auto' on a machine of the cluster)",
    ]
    assert took < 20, f"took {took:.1f} s"  # Ray's own retries take 30 s
    assert out.read_text() == ""  # no result line
