"""Benchmark: reprobox run (API, CLI, session, pool; engine and oci backends) against docker
run and the raw SDK, gVisor on both backends, the bubblewrap floor, and throughput with
concurrent callers.

Run with ``.venv/bin/python bench/bench_run.py [--repeat N] [--image IMAGE]`` as root. Prints
Markdown tables of medians and ratios (the ones in the README and docs/run.md come from here).
Everything runs offline on the local base image; containers carry reprobox labels and are
removed; the oci backend's boxes leave nothing either.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pwd
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker

from reprobox.engine import connect
from reprobox.engine.flavour import PODMAN_URL, rootless_podman_url
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


def oci_rootfs(image: str) -> str:
    """The oci backend's cached rootfs of ``image`` (unpacked by a first run)."""
    from reprobox.oci.images import ImageStore

    Sandbox(image, Policy(), backend="oci").run(["true"])
    engine = connect(lite=True)
    summary = engine.image(image)
    engine.close()
    assert summary is not None
    found = ImageStore().lookup(summary.id)
    assert found is not None
    return str(found.rootfs)


def bubblewrap(rootfs: str, cmd: list[str]) -> None:
    """The floor for a namespaced box: bwrap with its own namespaces, no cgroup, no seccomp."""
    subprocess.run(
        ["bwrap", "--ro-bind", rootfs, "/", "--proc", "/proc", "--dev", "/dev", "--unshare-all",
         "--die-with-parent", "--uid", "65534", "--gid", "65534", *cmd],
        check=True,
        capture_output=True,
    )  # fmt: skip


def oci_cli(image: str, cmd: list[str]) -> None:
    subprocess.run(
        [*REPROBOX, "run", "--backend", "oci", "--image", image, "--", *cmd],
        check=True,
        capture_output=True,
    )


def measure(image: str, cmd: list[str], repeat: int) -> dict[str, float]:
    engine = connect()
    client = engine.raw
    rootfs = oci_rootfs(image)
    with (
        Sandbox(image, Policy(), engine=engine, labels=LABELS) as box,
        SandboxPool(image, Policy(), size=2, engine=engine, labels=LABELS) as pool,
        Sandbox(image, Policy(), backend="oci") as oci_box,
        SandboxPool(image, Policy(), size=2, backend="oci") as oci_pool,
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
            "oci API one-shot": lambda: Sandbox(image, Policy(), backend="oci").run(cmd),
            "oci run (CLI)": lambda: oci_cli(image, cmd),
            "oci session run()": lambda: oci_box.run(cmd),
            "oci pool one-shot": lambda: oci_pool.run(cmd),
            "bubblewrap (floor, no cgroup or seccomp)": lambda: bubblewrap(rootfs, cmd),
        }
        rows = interleaved(variants, repeat)
    engine.close()
    return rows


TARGETS = (
    ("reprobox API one-shot", "raw SDK, network disabled", 1.1, "<="),
    ("reprobox run (CLI)", "docker run --rm --network none", 1.0, "<"),
    ("reprobox session run()", "raw exec_run", 1.1, "<="),
    ("reprobox pool one-shot", "reprobox API one-shot", 0.5, "<"),
    ("oci API one-shot", "raw SDK, network disabled", 0.2, "<="),
    ("oci session run()", "reprobox session run()", 1.0, "<="),
    ("oci run (CLI)", "reprobox run (CLI)", 1.0, "<"),
)


def measure_runsc(image: str, repeat: int) -> dict[str, float]:
    """One-shot ``true`` under gVisor, through the engine and with no engine."""
    gvisor = Policy(runtime="runsc")
    engine = connect()
    variants: dict[str, Callable[[], object]] = {
        "engine + runsc API one-shot": lambda: Sandbox(
            image, gvisor, engine=engine, labels=LABELS
        ).run(["true"]),
        "oci + runsc API one-shot": lambda: Sandbox(image, gvisor, backend="oci").run(["true"]),
    }
    rows = interleaved(variants, max(3, repeat // 3))
    engine.close()
    return rows


def oci_cpu_per_run(image: str, runs: int) -> tuple[float, float]:
    """CPU seconds per oci one-shot ``true``, as ``(reprobox's process, its children)``:
    counted by the kernel (getrusage), so unlike wall time it hardly moves with the load of
    other processes. Children are runc, the box's init and the command (and the owner's
    supervisor, once it has exited: this measures in a child process of its own)."""
    code = (
        "import resource, sys\n"
        "from reprobox.oci import runtime as rt\n"
        "from reprobox.sandbox import Policy, Sandbox\n"
        "image, runs = sys.argv[1], int(sys.argv[2])\n"
        "Sandbox(image, Policy(), backend='oci').run(['true'])\n"
        "def cpu(who):\n"
        "    u = resource.getrusage(who)\n"
        "    return u.ru_utime + u.ru_stime\n"
        "me, kids = cpu(resource.RUSAGE_SELF), cpu(resource.RUSAGE_CHILDREN)\n"
        "for _ in range(runs):\n"
        "    Sandbox(image, Policy(), backend='oci').run(['true'])\n"
        "me = cpu(resource.RUSAGE_SELF) - me\n"
        "if rt._watcher is not None:\n"
        "    rt._watcher.close()\n"
        "    rt._watcher.proc.wait()\n"
        "print(me / runs, (cpu(resource.RUSAGE_CHILDREN) - kids) / runs)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, image, str(runs)], check=True, capture_output=True, text=True
    )
    mine, children = done.stdout.split()
    return float(mine), float(children)


def throughput(image: str, backend: str, pool: bool, callers: int, runs: int) -> float:
    """Runs per second of ``callers`` threads, each doing ``runs`` one-shot ``true`` runs
    (in fresh boxes, or from a pool of ``callers`` boxes)."""
    chosen = "engine" if backend == "engine" else "oci"
    engine = connect() if chosen == "engine" else None
    box_pool = (
        SandboxPool(image, Policy(), size=callers, engine=engine, labels=LABELS, backend=chosen)
        if pool
        else None
    )

    def caller() -> None:
        for _ in range(runs):
            if box_pool is not None:
                box_pool.run(["true"])
            else:
                Sandbox(image, Policy(), engine=engine, labels=LABELS, backend=chosen).run(["true"])

    if box_pool is not None:
        box_pool.__enter__()
        time.sleep(2)  # let it fill once, as a long-lived pool is
    threads = [threading.Thread(target=caller) for _ in range(callers)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if box_pool is not None:
        box_pool.close()
    if engine is not None:
        engine.close()
    return callers * runs / elapsed


def throughput_table(image: str, callers: int, runs: int) -> str:
    rates = {
        (backend, pool): throughput(image, backend, pool, callers, runs)
        for backend in ("engine", "oci")
        for pool in (False, True)
    }
    lines = [
        f"| {callers} concurrent callers, `true` | runs/s |",
        "|---|---|",
        *(
            f"| {backend} {'pool' if pool else 'one-shot'} | {rate:.1f} |"
            for (backend, pool), rate in rates.items()
        ),
        "",
        "| target | ratio |",
        "|---|---|",
    ]
    checks = (
        ("oci one-shot >= 4x engine one-shot", rates["oci", False] / rates["engine", False], 4.0),
        ("engine pool >= engine one-shot", rates["engine", True] / rates["engine", False], 1.0),
        ("oci pool >= oci one-shot", rates["oci", True] / rates["oci", False], 1.0),
    )
    for name, ratio, limit in checks:
        lines.append(f"| {name} | {ratio:.2f}x {'met' if ratio >= limit else 'MISSED'} |")
    return "\n".join(lines)


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


ENGINE_BASELINES = ("raw SDK on docker", "raw exec_run on docker")


def engine_url(name: str) -> str:
    if name == "docker":
        return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    if name == "podman":
        return PODMAN_URL
    if name == "podman-rootless":
        user = os.environ.get("REPROBOX_ROOTLESS_USER", "reprobox-rootless")
        return rootless_podman_url(pwd.getpwnam(user).pw_uid)
    raise SystemExit(f"unknown engine {name} (docker, podman, podman-rootless)")


def measure_engines(names: list[str], image: str, cmd: list[str], repeat: int) -> dict[str, float]:
    """One-shot and session cost on each engine, round-robin in one run, with Docker's raw
    SDK one-shot and raw ``exec_run`` as the baselines. Engines that cannot enforce limits
    (rootless Podman on cgroup v1) run ``Policy.unlimited()``, the box they accept."""
    with contextlib.ExitStack() as stack:
        variants: dict[str, Callable[[], object]] = {}
        for name in ["docker", *(n for n in names if n != "docker")]:
            engine = stack.enter_context(connect(engine_url(name)))
            policy = Policy() if engine.flavour().enforces_limits else Policy.unlimited()
            box = stack.enter_context(Sandbox(image, policy, engine=engine, labels=LABELS))
            container = engine.raw.containers.get(box.container_id)
            variants |= _engine_variants(name, engine, policy, box, container, image, cmd)
        return interleaved(variants, repeat)


def _engine_variants(
    name: str, engine: Any, policy: Policy, box: Sandbox, container: Any, image: str, cmd: list[str]
) -> dict[str, Callable[[], object]]:
    one_shot = Sandbox(image, policy, engine=engine, labels=LABELS)
    variants: dict[str, Callable[[], object]] = {
        f"API one-shot on {name}": lambda: one_shot.run(cmd),
        f"session run() on {name}": lambda: box.run(cmd),
    }
    if name == "docker":  # the baselines (rootful Podman's raw SDK would need explicit ulimits)
        variants[ENGINE_BASELINES[0]] = lambda: raw_sdk(engine.raw, image, cmd, True)
        variants[ENGINE_BASELINES[1]] = lambda: container.exec_run(cmd)
    return variants


def engines_table(names: list[str], results: dict[str, dict[str, float]]) -> str:
    """Each engine's cost as ratios to Docker's raw SDK one-shot and raw exec_run."""
    lines = [
        "| engine | "
        + " | ".join(
            f"`{k}` one-shot / Docker raw SDK | `{k}` session run() / Docker raw exec_run"
            for k in results
        )
        + " |",
        "|---" * (2 * len(results) + 1) + "|",
    ]
    for name in ["docker", *(n for n in names if n != "docker")]:
        cells = []
        for r in results.values():
            cells.append(f"{r[f'API one-shot on {name}'] / r[ENGINE_BASELINES[0]]:.2f}x")
            cells.append(f"{r[f'session run() on {name}'] / r[ENGINE_BASELINES[1]]:.2f}x")
        lines.append(f"| {name} | {' | '.join(cells)} |")
    lines.append("")
    lines.append(
        "| raw baselines | "
        + " | ".join(
            f"`{k}`: SDK one-shot {r[ENGINE_BASELINES[0]] * 1000:.0f} ms, exec_run "
            f"{r[ENGINE_BASELINES[1]] * 1000:.0f} ms"
            for k, r in results.items()
        )
        + " |"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--image", default=IMAGE)
    parser.add_argument("--callers", type=int, default=4)
    parser.add_argument("--runs", type=int, default=10, help="runs per caller (throughput)")
    parser.add_argument(
        "--engines",
        default="",
        help="also compare engines, e.g. docker,podman,podman-rootless (ratios to Docker)",
    )
    args = parser.parse_args()
    if args.engines:
        names = [n.strip() for n in args.engines.split(",") if n.strip()]
        per_engine = {
            k: measure_engines(names, args.image, c, args.repeat) for k, c in COMMANDS.items()
        }
        print(engines_table(names, per_engine))
        return
    # An installed package carries compiled bytecode (pip compiles at install time); an
    # editable checkout has none until first import, and none at all under
    # PYTHONDONTWRITEBYTECODE=1. Compile once so the CLI is measured as users run it.
    import compileall

    import reprobox

    compileall.compile_dir(os.path.dirname(reprobox.__file__), quiet=1)
    before = os.getloadavg()
    results = {name: measure(args.image, cmd, args.repeat) for name, cmd in COMMANDS.items()}
    print(table(results))
    gvisor = measure_runsc(args.image, args.repeat)
    ratio = gvisor["oci + runsc API one-shot"] / gvisor["engine + runsc API one-shot"]
    print("\n| gVisor one-shot `true` | median |\n|---|---|")
    for name, seconds in gvisor.items():
        print(f"| {name} | {seconds * 1000:.0f} ms |")
    print(f"| oci + runsc / engine + runsc | {ratio:.2f}x {'met' if ratio < 1 else 'MISSED'} |")
    print()
    print(throughput_table(args.image, args.callers, args.runs))
    samples = [oci_cpu_per_run(args.image, 20) for _ in range(3)]
    mine = statistics.median(s[0] for s in samples) * 1000
    children = statistics.median(s[1] for s in samples) * 1000
    print(
        "\n| oci one-shot `true`, CPU per run (getrusage, median of 3 x 20) | ms |\n|---|---|\n"
        f"| reprobox (Python) | {mine:.1f} |\n"
        f"| runc, init, command, supervisor | {children:.1f} |\n"
        f"| total | {mine + children:.1f} |"
    )
    after = os.getloadavg()
    print(f"\nload average (1/5/15 min): {_load(before)} before, {_load(after)} after")


def _load(values: tuple[float, float, float]) -> str:
    return "/".join(f"{v:.2f}" for v in values)


if __name__ == "__main__":
    main()
