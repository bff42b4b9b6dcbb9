"""Benchmark: reprobox run (API, CLI, session, pool) against docker run and the raw SDK.

Run with ``.venv/bin/python bench/bench_run.py [--repeat N] [--image IMAGE]``. Prints a
Markdown table of medians and ratios (the one in docs/run.md comes from here). Everything
runs offline on the local base image; containers carry reprobox labels and are removed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import docker

from reprobox.engine import connect
from reprobox.engine.labels import for_resource
from reprobox.sandbox import Policy, Sandbox, SandboxPool

IMAGE = "reprobox/python:3.11-bookworm"
COMMANDS = {"true": ["true"], "python": ["python3", "-c", "print(1)"]}
LABELS = {"io.reprobox.bench": "1"}
REPROBOX = [str(Path(sys.executable).with_name("reprobox"))]


def interleaved(variants: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Median wall-clock seconds per variant; one warm-up each, then round-robin, so drifting
    load on a shared machine hits every variant alike."""
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for func in variants.values():
        func()
    for _ in range(repeat):
        for name, func in variants.items():
            start = time.perf_counter()
            func()
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in samples.items()}


def raw_sdk(client: docker.DockerClient, image: str, cmd: list[str], disabled: bool) -> None:
    """What a careful SDK user writes: create, start, wait, logs, remove."""
    api = client.api
    kwargs = {"network_disabled": True} if disabled else {}
    host = api.create_host_config(network_mode=None if disabled else "none")
    cid = api.create_container(
        image, cmd, host_config=host, labels=for_resource("bench", LABELS), **kwargs
    )["Id"]
    try:
        api.start(cid)
        api.wait(cid)
        api.logs(cid, stdout=True, stderr=True)
    finally:
        api.remove_container(cid, force=True)


def docker_cli(image: str, cmd: list[str]) -> None:
    subprocess.run(
        [
            "docker",
            "run",
            "--rm",
            "--network",
            "none",
            "--label",
            "io.reprobox.managed=true",
            image,
            *cmd,
        ],
        check=True,
        capture_output=True,
    )


def reprobox_cli(image: str, cmd: list[str]) -> None:
    subprocess.run(
        [*REPROBOX, "run", "--image", image, "--label", "io.reprobox.bench=1", "--", *cmd],
        check=True,
        capture_output=True,
    )


def measure(image: str, cmd: list[str], repeat: int) -> dict[str, float]:
    engine = connect()
    client = engine.raw
    with (
        Sandbox(image, Policy(), engine=engine, labels=LABELS) as box,
        SandboxPool(image, Policy(), size=2, engine=engine, labels=LABELS) as pool,
    ):
        container = client.containers.get(box.container_id)

        def pooled() -> None:
            pool.run(cmd)

        variants: dict[str, Callable[[], object]] = {
            "raw SDK, network disabled": lambda: raw_sdk(client, image, cmd, True),
            "raw SDK, network none": lambda: raw_sdk(client, image, cmd, False),
            "reprobox API one-shot": lambda: Sandbox(
                image, Policy(), engine=engine, labels=LABELS
            ).run(cmd),
            "docker run --rm --network none": lambda: docker_cli(image, cmd),
            "reprobox run (CLI)": lambda: reprobox_cli(image, cmd),
            "raw exec_run": lambda: container.exec_run(cmd),
            "reprobox session run()": lambda: box.run(cmd),
            # The round-robin leaves the pool time to refill between its runs.
            "reprobox pool one-shot": pooled,
        }
        rows = interleaved(variants, repeat)
    engine.close()
    return rows


TARGETS = (
    ("reprobox API one-shot", "raw SDK, network disabled", 1.1, "<="),
    ("reprobox run (CLI)", "docker run --rm --network none", 1.0, "<"),
    ("reprobox session run()", "raw exec_run", 1.1, "<="),
    ("reprobox pool one-shot", "reprobox API one-shot", 0.5, "<"),
)


def table(results: dict[str, dict[str, float]]) -> str:
    names = list(next(iter(results.values())))
    head = "| | " + " | ".join(f"`{k}` median" for k in results) + " |"
    lines = [head, "|---" * (len(results) + 1) + "|"]
    for name in names:
        cells = " | ".join(f"{results[k][name] * 1000:.0f} ms" for k in results)
        lines.append(f"| {name} | {cells} |")
    lines += [
        "",
        "| target | " + " | ".join(f"`{k}` ratio" for k in results) + " |",
        "|---" * (len(results) + 1) + "|",
    ]
    for subject, base, limit, op in TARGETS:
        cells = []
        for k in results:
            ratio = results[k][subject] / results[k][base]
            met = ratio <= limit if op == "<=" else ratio < limit
            cells.append(f"{ratio:.2f}x {'met' if met else 'MISSED'}")
        lines.append(f"| {subject} {op} {limit}x {base} | {' | '.join(cells)} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--image", default=IMAGE)
    args = parser.parse_args()
    # An installed package carries compiled bytecode (pip compiles at install time); an
    # editable checkout has none until first import, and none at all under
    # PYTHONDONTWRITEBYTECODE=1. Compile once so the CLI is measured as users run it.
    import compileall

    import reprobox

    compileall.compile_dir(os.path.dirname(reprobox.__file__), quiet=1)
    before = os.getloadavg()
    results = {name: measure(args.image, cmd, args.repeat) for name, cmd in COMMANDS.items()}
    print(table(results))
    after = os.getloadavg()
    print(f"\nload average (1/5/15 min): {_load(before)} before, {_load(after)} after")


def _load(values: tuple[float, float, float]) -> str:
    return "/".join(f"{v:.2f}" for v in values)


if __name__ == "__main__":
    main()
