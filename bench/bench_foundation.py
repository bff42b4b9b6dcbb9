"""Benchmark: how cheap is a code change, and how much does the app add to its base image?

Measures, in one run on the offline base image:
  * a clean build of tasks-app (``--no-cache``), the baseline;
  * a rebuild after a one-line change to ``cli.py`` (cache warm), as a ratio to the baseline;
  * the image's size over its base image, in KB.

Usage: .venv/bin/python bench/bench_foundation.py [--repeat N] [--base IMAGE]
Everything it builds is labelled and removed at the end.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LABEL = f"io.reprobox.bench={uuid.uuid4().hex[:8]}"


def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], check=True, capture_output=True, text=True).stdout


def timed_build(context: Path, tag: str, base: str, *extra: str) -> float:
    started = time.perf_counter()
    docker(
        "build",
        "--network",
        "none",
        "--label",
        LABEL,
        "--build-arg",
        f"BASE_IMAGE={base}",
        "-t",
        tag,
        *extra,
        str(context),
    )
    return time.perf_counter() - started


def size(ref: str) -> int:
    return int(docker("image", "inspect", "--format", "{{.Size}}", ref).strip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--base", default="reprobox/python:3.11-bookworm")
    args = parser.parse_args()
    clean: list[float] = []
    rebuild: list[float] = []
    tag = f"reprobox-bench/tasks-app:{LABEL.rsplit('=', 1)[1]}"
    with tempfile.TemporaryDirectory() as tmp:
        context = Path(tmp) / "tasks-app"
        shutil.copytree(ROOT / "tasks-app", context)
        try:
            for i in range(args.repeat):
                clean.append(timed_build(context, tag, args.base, "--no-cache"))
                cli = context / "cli.py"
                cli.write_text(cli.read_text() + f"# change {i}\n")
                rebuild.append(timed_build(context, tag, args.base))
            over_kb = (size(tag) - size(args.base)) / 1000
        finally:
            ids = docker("images", "-q", "--filter", f"label={LABEL}").split()
            if ids:
                subprocess.run(["docker", "rmi", "-f", *set(ids)], capture_output=True)
    result = {
        "clean_build_median_s": round(statistics.median(clean), 3),
        "rebuild_median_s": round(statistics.median(rebuild), 3),
        "rebuild_over_clean_ratio": round(statistics.median(rebuild) / statistics.median(clean), 3),
        "image_over_base_kb": round(over_kb, 1),
        "repeat": args.repeat,
    }
    print(json.dumps(result, indent=2))
    print(
        f"\n| measure | value |\n|---|---|\n"
        f"| rebuild after one-line cli.py change / clean build | "
        f"{result['rebuild_over_clean_ratio']:.2f}x |\n"
        f"| tasks-app image over its base | {result['image_over_base_kb']:.1f} KB |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
