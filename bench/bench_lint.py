"""Benchmark ``reprobox lint`` against hadolint on the same files, in the same run.

    .venv/bin/python bench/bench_lint.py [--corpus DIR] [--repeat 5] [--single 21] [--per-file]

One file, as a pre-commit hook or an editor lints it (``--single`` runs of each, interleaved,
medians of wall time and CPU time): ``reprobox lint FILE`` against ``hadolint FILE``, on
``tasks-app/Dockerfile`` (a small file with a build context, a ``.dockerignore``, a
``.gitignore`` and a ``pyproject.toml``: where start-up weighs most, hadolint is fastest and
the ratio is at its worst) and on the corpus file whose hadolint time is the median. Target:
at most 4x.

The whole corpus, with medians over ``--repeat`` runs:

* reprobox in one process (``lint_paths`` on every file; imports already done),
* reprobox as a user runs it (``python -m reprobox lint --recursive``: start-up included,
  one process per available CPU), and the same with ``--jobs 1`` (one process),
* hadolint in one process for all files (``hadolint --no-fail -f json f1 f2 ...``: the fair
  comparison), and with ``--per-file`` one hadolint process per file (how most CI scripts call it).

Target: the CLI at least 15x hadolint's throughput. Then prints the most frequent findings and
how many ``FROM`` lines are pinned by digest. Nothing is fetched: both tools only read the
files. Bytecode is compiled first, as ``pip install`` leaves it.
"""

from __future__ import annotations

import argparse
import compileall
import os
import resource
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
from reprobox.lint.parallel import available_cpus
from reprobox.lint.rules import BY_ID
from reprobox.lint.runner import discover

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "dockerfiles"
EXAMPLE = ROOT / "tasks-app" / "Dockerfile"


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


def timed(argv: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child) of one run of ``argv``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    run_quiet(argv)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu


def one_file(path: Path, hadolint: str, repeat: int) -> dict[str, tuple[float, float]]:
    """Median (wall, CPU) seconds of each tool on one file, runs interleaved."""
    argvs = {
        "reprobox": [str(Path(sys.executable).parent / "reprobox"), "lint", str(path)],
        "hadolint": [hadolint, "--no-fail", str(path)],
    }
    return interleaved(argvs, repeat)


def interleaved(argvs: dict[str, list[str]], repeat: int) -> dict[str, tuple[float, float]]:
    """Median (wall, CPU) seconds of each command, run in turn ``repeat`` times (so both
    see the same load on a shared machine)."""
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in argvs}
    for _ in range(repeat):
        for name, argv in argvs.items():
            samples[name].append(timed(argv))
    return {
        name: (statistics.median(w for w, _ in got), statistics.median(c for _, c in got))
        for name, got in samples.items()
    }


def median_hadolint_file(files: list[Path], hadolint: str) -> Path:
    """The corpus file hadolint takes the median time on (one timed run each)."""
    timings = sorted((timed([hadolint, "--no-fail", str(path)])[1], str(path)) for path in files)
    return Path(timings[len(timings) // 2][1])


def print_one_file(name: str, result: dict[str, tuple[float, float]]) -> None:
    (rw, rc), (hw, hc) = result["reprobox"], result["hadolint"]
    print(
        f"| {name} | {rw * 1000:.0f} ms / {hw * 1000:.0f} ms = **{rw / hw:.2f}x** "
        f"| {rc * 1000:.0f} ms / {hc * 1000:.0f} ms = {rc / hc:.2f}x |"
    )


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
    parser.add_argument("--single", type=int, default=21, help="runs per tool on one file")
    parser.add_argument("--per-file", action="store_true", help="also time hadolint per file")
    args = parser.parse_args()
    files = discover([args.corpus], recursive=True)
    count = len(files)
    hadolint = binary()
    compileall.compile_dir(str(ROOT / "src" / "reprobox"), quiet=1)
    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}\n")
    typical = median_hadolint_file(files, hadolint)
    print(f"one file, median of {args.single} interleaved runs each (target <= 4x)\n")
    print("| file | wall: reprobox / hadolint | CPU: reprobox / hadolint |\n|---|---|---|")
    print_one_file(f"`{EXAMPLE.relative_to(ROOT)}`", one_file(EXAMPLE, hadolint, args.single))
    print_one_file(f"median corpus file `{typical.relative_to(args.corpus)}`",
                   one_file(typical, hadolint, args.single))  # fmt: skip
    print()
    options = LintOptions()
    lint_paths(files, options)  # warm-up: imports and file cache, same as hadolint's 1st run

    in_process = median_seconds(lambda: lint_paths(files, options), args.repeat)
    cli = [sys.executable, "-m", "reprobox", "lint", "--recursive", "--format", "json"]
    together = [hadolint, "--no-fail", "-f", "json", *map(str, files)]
    argvs = {
        "cli": [*cli, str(args.corpus)],
        "cli1": [*cli, "--jobs", "1", str(args.corpus)],
        "hadolint": together,
    }
    corpus = interleaved(argvs, args.repeat)
    rows = [
        ("reprobox, in process", in_process, None),
        (f"reprobox CLI ({available_cpus()} processes)", *corpus["cli"]),
        ("reprobox CLI --jobs 1 (one process)", *corpus["cli1"]),
        ("hadolint, one process", *corpus["hadolint"]),
    ]
    if args.per_file:

        def each() -> None:
            for path in files:
                run_quiet([hadolint, "--no-fail", "-f", "json", str(path)])

        rows.append(("hadolint, one process per file", median_seconds(each, 1), None))

    print(f"corpus: {args.corpus} ({count} Dockerfiles), median of {args.repeat} runs")
    print("(the CLI and hadolint interleaved)\n")
    print(f"| {'tool':<36} | {'seconds':>8} | {'CPU s':>7} | {'files/s':>9} |")
    print(f"|{'-' * 38}|{'-' * 10}|{'-' * 9}|{'-' * 11}|")
    for name, seconds, cpu in rows:
        shown = f"{cpu:>7.3f}" if cpu is not None else f"{'':>7}"
        print(f"| {name:<36} | {seconds:>8.3f} | {shown} | {count / seconds:>9.1f} |")
    (hw, hc), (cw, cc), (sw, sc) = corpus["hadolint"], corpus["cli"], corpus["cli1"]
    print(
        f"\nthroughput vs hadolint (one process): in process {hw / in_process:.1f}x, "
        f"CLI {hw / cw:.1f}x wall, {hc / cc:.1f}x CPU (target >= 15x); "
        f"CLI --jobs 1 {hw / sw:.1f}x wall, {hc / sc:.1f}x CPU"
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
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
