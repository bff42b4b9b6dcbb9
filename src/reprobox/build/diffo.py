"""Hand differing files to diffoscope (`verify --diffoscope`; Debian diffoscope-minimal)."""

from __future__ import annotations

import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from reprobox import tools
from reprobox.build.compare import Kind, PathDifference

if TYPE_CHECKING:
    from reprobox.build.normalize import NormalizedImage

MAX_FILES = 5
MAX_CHARS = 4000
TIMEOUT = 60


@dataclass(frozen=True)
class DiffoscopeOutput:
    path: str
    text: str


def find() -> str:
    """The diffoscope executable, checked before verify spends minutes building."""
    return tools.find(tools.DIFFOSCOPE, "--diffoscope runs it", "leave out --diffoscope")


def run_on(
    binary: str,
    first: NormalizedImage,
    second: NormalizedImage,
    paths: tuple[PathDifference, ...],
    workdir: Path,
) -> tuple[tuple[DiffoscopeOutput, ...], str]:
    """diffoscope's text output for the first ``MAX_FILES`` files whose content differs."""
    chosen = [p for p in paths if Kind.CONTENT in p.kinds][:MAX_FILES]
    outputs = []
    for number, diff in enumerate(chosen):
        a = _extract(first.new_layers[diff.layer - 1], diff.path, workdir / f"{number}-first")
        b = _extract(second.new_layers[diff.layer - 1], diff.path, workdir / f"{number}-second")
        if a is not None and b is not None:
            outputs.append(DiffoscopeOutput(diff.path, _diffoscope(binary, a, b)))
    return tuple(outputs), f"diffoscope ran on {len(outputs)} file(s)"


def _extract(layer: Path, member: str, target: Path) -> Path | None:
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(layer, "r:") as tar:
        handle = tar.extractfile(member)
        if handle is None:
            return None
        path = target / Path(member).name
        path.write_bytes(handle.read())
    return path


def _diffoscope(binary: str, a: Path, b: Path) -> str:
    try:
        done = subprocess.run(
            [binary, "--text", "-", "--no-progress", str(a), str(b)],
            capture_output=True,
            text=True,
            errors="replace",
            timeout=TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"(diffoscope took more than {TIMEOUT} s)"
    return (done.stdout or done.stderr)[:MAX_CHARS]
