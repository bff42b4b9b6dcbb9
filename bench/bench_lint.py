"""Benchmark ``reprobox lint`` against hadolint on the same corpus, in the same run.

    .venv/bin/python bench/bench_lint.py [--corpus DIR] [--repeat 5] [--per-file]

Measures, with medians over ``--repeat`` runs:

* reprobox in one process (``lint_paths`` on every file; imports already done),
* reprobox as a user runs it (``python -m reprobox lint --recursive``: start-up included),
* hadolint in one process for all files (``hadolint --no-fail -f json f1 f2 ...``: the fair
  comparison), and with ``--per-file`` one hadolint process per file (how most CI scripts call it).

Then prints throughput (files/s), the ratios, the most frequent findings, and how many ``FROM``
lines are pinned by digest. Nothing is fetched: both tools only read the files.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from reprobox.dockerfile import parse_path
from reprobox.lint import LintOptions, lint_paths
from reprobox.lint.hadolint import binary
from reprobox.lint.rules import BY_ID
from reprobox.lint.runner import discover

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "dockerfiles"


def median_seconds(action: Callable[[], object], repeat: int) -> float:
    """The median wall time of ``action`` over ``repeat`` runs."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run_quiet(argv: list[str]) -> None:
    subprocess.run(argv, capture_output=True, check=False, timeout=1800)


def digest_pins(files: list[Path]) -> tuple[int, int, int]:
    """(all FROM lines, those naming a registry image, those pinned by digest)."""
    every = total = pinned = 0
    for path in files:
        for stage in parse_path(path).stages:
            every += 1
            if stage.is_scratch or stage.parent_stage is not None:
                continue
            total += 1
            pinned += stage.image.digest is not None
    return every, total, pinned


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--per-file", action="store_true", help="also time hadolint per file")
    args = parser.parse_args()
    files = discover([args.corpus], recursive=True)
    count = len(files)
    hadolint = binary()
    options = LintOptions()
    lint_paths(files, options)  # warm-up: imports and file cache, same as hadolint's 1st run

    rows: list[tuple[str, float]] = []
    rows.append(
        ("reprobox, in process", median_seconds(lambda: lint_paths(files, options), args.repeat))
    )
    cli = [
        sys.executable,
        "-m",
        "reprobox",
        "lint",
        "--recursive",
        "--format",
        "json",
        str(args.corpus),
    ]
    rows.append(
        ("reprobox CLI (start-up included)", median_seconds(lambda: run_quiet(cli), args.repeat))
    )
    together = [hadolint, "--no-fail", "-f", "json", *map(str, files)]
    rows.append(("hadolint, one process", median_seconds(lambda: run_quiet(together), args.repeat)))
    if args.per_file:

        def each() -> None:
            for path in files:
                run_quiet([hadolint, "--no-fail", "-f", "json", str(path)])

        rows.append(("hadolint, one process per file", median_seconds(each, 1)))

    print(f"corpus: {args.corpus} ({count} Dockerfiles), median of {args.repeat} runs\n")
    print(f"| {'tool':<34} | {'seconds':>8} | {'files/s':>9} |")
    print(f"|{'-' * 36}|{'-' * 10}|{'-' * 11}|")
    for name, seconds in rows:
        print(f"| {name:<34} | {seconds:>8.3f} | {count / seconds:>9.1f} |")
    base = dict(rows)["hadolint, one process"]
    print(
        f"\nratio vs hadolint (one process): in process {base / rows[0][1]:.1f}x, "
        f"CLI {base / rows[1][1]:.1f}x"
    )

    report = lint_paths(files, options)
    print(
        f"\n{len(report.findings)} findings in {len({f.path for f in report.findings})} files; "
        f"internal errors: {sum(f.rule_id == 'RBX1001' for f in report.findings)}\n"
    )
    print("| rule | count | title |\n|---|---|---|")
    for rule_id, n in Counter(f.rule_id for f in report.findings).most_common(10):
        print(f"| {rule_id} | {n} | {BY_ID[rule_id].meta.title} |")
    every, total, pinned = digest_pins(files)
    print(f"\nFROM lines: {every}; naming a registry image: {total}; pinned by digest: {pinned}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
