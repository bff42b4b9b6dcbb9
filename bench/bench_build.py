"""Benchmark: what reproducibility and a clean test container cost, as ratios.

Measures on the offline base image, median of ``--repeat`` runs:
  * ``reprobox verify tasks-app`` against two plain ``docker build --no-cache`` builds;
  * ``reprobox build tasks-app`` against one plain ``docker build --no-cache``;
  * ``reprobox test tasks-app`` against ``python -m unittest`` on the host (in a copy, so the
    working tree stays clean).

Usage: .venv/bin/python bench/bench_build.py [--repeat N] [--base IMAGE]
Everything it builds is labelled and removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "tasks-app"
RUN_ID = uuid.uuid4().hex[:8]
LABEL = f"io.reprobox.bench={RUN_ID}"
TAG = f"reprobox-bench/build:{RUN_ID}"


def run(*cmd: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
    done = subprocess.run(
        cmd, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr[-2000:]}")


def timed(action: Callable[[], None]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def plain_build(base: str) -> None:
    run("docker", "build", "-q", "--no-cache", "--network", "none", "--label", LABEL,
        "--build-arg", f"BASE_IMAGE={base}", "-t", TAG, str(APP))  # fmt: skip


def cleanup() -> None:
    """Remove the tag and every labelled plain build (each rebuild untags the previous)."""
    listed = subprocess.run(
        ["docker", "images", "-q", "--filter", f"label={LABEL}"], capture_output=True, text=True
    )
    ids = sorted(set(listed.stdout.split()))
    subprocess.run(["docker", "rmi", "-f", TAG, *ids], capture_output=True, check=False)


def reprobox(*args: str) -> None:
    run(sys.executable, "-m", "reprobox", *args)


def median_of(repeat: int, action: Callable[[], None]) -> float:
    return statistics.median(timed(action) for _ in range(repeat))


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--base", default="reprobox/python:3.11-bookworm")
    args = parser.parse_args()
    arg = f"BASE_IMAGE={args.base}"
    with tempfile.TemporaryDirectory() as tmp:
        host_copy = Path(tmp) / "tasks-app"
        shutil.copytree(APP, host_copy)
        try:
            plain = median_of(args.repeat, lambda: plain_build(args.base))
            verify = median_of(
                args.repeat, lambda: reprobox("verify", str(APP), "--build-arg", arg)
            )
            build = median_of(
                args.repeat, lambda: reprobox("build", str(APP), "--build-arg", arg, "-t", TAG)
            )
            host = median_of(
                args.repeat,
                lambda: run(
                    sys.executable,
                    "-m",
                    "unittest",
                    cwd=host_copy,
                    env={"PYTHONDONTWRITEBYTECODE": "1"},
                ),
            )
            test = median_of(args.repeat, lambda: reprobox("test", str(APP), "--build-arg", arg))
        finally:
            cleanup()
    result = {
        "plain_build_s": round(plain, 2),
        "verify_s": round(verify, 2),
        "verify_vs_two_plain_builds": round(verify / (2 * plain), 2),
        "build_s": round(build, 2),
        "build_vs_plain_build": round(build / plain, 2),
        "host_unittest_s": round(host, 2),
        "reprobox_test_s": round(test, 2),
        "test_vs_host": round(test / host, 2),
        "repeat": args.repeat,
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
