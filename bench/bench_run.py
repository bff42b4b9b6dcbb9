"""Benchmark: reprobox run (API, CLI, session, pool) against docker run and the raw SDK.

Run with ``.venv/bin/python bench/bench_run.py [--repeat N] [--image IMAGE]``. Prints a
Markdown table of medians and ratios (the one in docs/run.md comes from here). Everything
runs offline on the local base image; containers carry reprobox labels and are removed.
"""

from __future__ import annotations

import argparse
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


def timed(func: Callable[[], object], repeat: int) -> float:
    """Median wall-clock seconds of ``repeat`` calls (after one warm-up)."""
    func()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


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
    rows: dict[str, float] = {}
    rows["raw SDK, network disabled"] = timed(lambda: raw_sdk(client, image, cmd, True), repeat)
    rows["raw SDK, network none"] = timed(lambda: raw_sdk(client, image, cmd, False), repeat)
    rows["reprobox API one-shot"] = timed(
        lambda: Sandbox(image, Policy(), engine=engine, labels=LABELS).run(cmd), repeat
    )
    rows["docker run --rm --network none"] = timed(lambda: docker_cli(image, cmd), repeat)
    rows["reprobox run (CLI)"] = timed(lambda: reprobox_cli(image, cmd), repeat)
    with Sandbox(image, Policy(), engine=engine, labels=LABELS) as box:
        cid = box.container_id
        rows["reprobox session run()"] = timed(lambda: box.run(cmd), repeat)
        rows["raw exec_run"] = timed(lambda: client.containers.get(cid).exec_run(cmd), repeat)
    with SandboxPool(image, Policy(), size=2, engine=engine, labels=LABELS) as pool:

        def pooled() -> None:
            pool.run(cmd)
            time.sleep(0.3)  # a realistic gap between runs lets the pool refill

        rows["reprobox pool one-shot"] = timed(pooled, repeat) - 0.3
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
    results = {name: measure(args.image, cmd, args.repeat) for name, cmd in COMMANDS.items()}
    print(table(results))


if __name__ == "__main__":
    main()
