"""``reprobox verify``: build twice from scratch and explain every difference.

The second build uses a copy of the context at another path, with other file mtimes and made
under another umask (``VERIFY_UMASK``), so a build that depends on where or how the sources
were checked out shows up. Both builds are normalized exactly as ``reprobox build`` does and
compared without being loaded; the raw builds are removed.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from reprobox.build import compare, diffo
from reprobox.build.builder import BuildSpec, build_normalized
from reprobox.build.inputs import resolve_inputs
from reprobox.build.normalize import NormalizedImage
from reprobox.engine import Engine, images

Progress = Callable[[str], None]
VERIFY_UMASK = 0o077
COPY_MTIME = 946684800  # 2000-01-01: any fixed time unlike a fresh checkout's
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class VerifyReport:
    """The verdict: identical, or every difference with its likely cause."""

    schema_version: int
    identical: bool
    image_ids: tuple[str, str]
    source_date_epoch: int
    config: tuple[compare.ConfigDifference, ...]
    paths: tuple[compare.PathDifference, ...]
    layer_counts: tuple[int, int]
    diffoscope: tuple[diffo.DiffoscopeOutput, ...]
    diffoscope_note: str
    seconds: float


def copy_context(root: Path, dockerfile: str, target: Path) -> None:
    """Copy the context to ``target`` under ``VERIFY_UMASK`` with every mtime changed."""
    old = os.umask(VERIFY_UMASK)
    try:
        for rel in images.context_files(root, dockerfile):
            _copy_one(root / rel, target / rel)
    finally:
        os.umask(old)
    for path in sorted(target.rglob("*"), reverse=True):
        os.utime(path, (COPY_MTIME, COPY_MTIME), follow_symlinks=False)


def _copy_one(source: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    if source.is_symlink():
        dest.symlink_to(os.readlink(source))
    elif source.is_dir():
        dest.mkdir(exist_ok=True)
    else:
        shutil.copyfile(source, dest)
        os.chmod(dest, stat.S_IMODE(source.stat().st_mode) & ~VERIFY_UMASK)


def verify(
    engine: Engine,
    spec: BuildSpec,
    progress: Progress = lambda _: None,
    diffoscope: bool = False,
) -> VerifyReport:
    """Build ``spec`` twice (no cache) and compare the normalized results."""
    started = time.monotonic()
    diffoscope_binary = diffo.find() if diffoscope else None
    inputs = resolve_inputs(spec.context)
    spec = replace(spec, nocache=True, tag=None)
    with tempfile.TemporaryDirectory(prefix="reprobox-verify-") as work:
        root = Path(work)
        for name in ("first", "second", "context-copy"):
            (root / name).mkdir()
        progress(f"build 1/2 from {spec.context}")
        first = build_normalized(engine, spec, inputs, root / "first", progress)
        copy_context(spec.context, spec.dockerfile, root / "context-copy")
        progress("build 2/2 from a copy (other path, other mtimes, umask 077)")
        second_spec = replace(spec, context=root / "context-copy")
        second = build_normalized(engine, second_spec, inputs, root / "second", progress)
        return _report(first, second, inputs.source_date_epoch, diffoscope_binary, root, started)


def _report(
    first: NormalizedImage,
    second: NormalizedImage,
    epoch: int,
    diffoscope: str | None,
    workdir: Path,
    started: float,
) -> VerifyReport:
    configs = tuple(compare.compare_configs(first.config, second.config))
    paths = tuple(_path_differences(first, second))
    outputs: tuple[diffo.DiffoscopeOutput, ...] = ()
    note = ""
    if diffoscope and paths:
        outputs, note = diffo.run_on(diffoscope, first, second, paths, workdir / "diffoscope")
    return VerifyReport(
        SCHEMA_VERSION,
        first.image_id == second.image_id,
        (first.image_id, second.image_id),
        epoch,
        configs,
        paths,
        (len(first.new_layers), len(second.new_layers)),
        outputs,
        note,
        time.monotonic() - started,
    )


def _path_differences(
    first: NormalizedImage, second: NormalizedImage
) -> list[compare.PathDifference]:
    steps = compare.layer_steps(first.config)[-len(first.new_layers) :] if first.new_layers else []
    found: list[compare.PathDifference] = []
    for index, (a, b) in enumerate(zip(first.new_layers, second.new_layers, strict=False)):
        step = steps[index] if index < len(steps) else ""
        found += compare.compare_layers(
            index + 1, step, compare.read_layer(a), compare.read_layer(b)
        )
    return found
