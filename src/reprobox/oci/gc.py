"""``reprobox gc`` for the oci backend: boxes of dead owners, and unused or excess images.

A box is removed when its owner process is dead (or always, with ``everything``): killed,
deleted from its runtime (state and cgroup) and its bundle removed; runtime state and cgroups
that no bundle claims go too. A cached image is removed when nothing uses it: no live box runs
it and its source is gone (the archive file deleted, or the image no longer on the engine).
``cache_max`` then bounds the cache: least recently used images go first, never one in use.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reprobox.oci import runtime as rt
from reprobox.oci.images import CachedImage, ImageRef, ImageStore
from reprobox.oci.source import ENGINE_SOURCE

NEW_BUNDLE_S = 60.0
EngineHas = Callable[[str], bool | None]  # image ID -> on the engine? (None: cannot tell)


@dataclass(frozen=True)
class OciSweep:
    boxes: tuple[str, ...]
    images: tuple[str, ...]
    freed_bytes: int


def sweep(
    only_dead: bool = True,
    cache_max: int | None = None,
    engine_has: EngineHas | None = None,
    store: ImageStore | None = None,
) -> OciSweep:
    boxes, in_use = _sweep_boxes(only_dead)
    _sweep_orphans()
    chosen = store or ImageStore()
    doomed = unused_images(chosen.entries(), in_use, engine_has)
    doomed += over_bound([e for e in chosen.entries() if e not in doomed], in_use, cache_max)
    for image in doomed:
        chosen.remove(image)
    freed = sum(_size(image) for image in doomed)
    return OciSweep(tuple(boxes), tuple(i.image_id for i in doomed), freed)


def _owner(bundle: Path) -> rt.Owner | None:
    try:
        return rt.Owner(**json.loads((bundle / "owner").read_text()))
    except (OSError, ValueError, TypeError):
        return None


def _sweep_boxes(only_dead: bool) -> tuple[list[str], set[str]]:
    removed: list[str] = []
    in_use: set[str] = set()
    folder = rt.run_dir() / "boxes"
    for bundle in sorted(folder.iterdir()) if folder.is_dir() else ():
        owner = _owner(bundle)
        if owner is None and _younger_than(bundle, NEW_BUNDLE_S) and only_dead:
            continue  # being created right now: its owner file is not written yet
        if owner is not None and owner.alive() and only_dead:
            in_use.add(owner.image)
            continue
        _remove_box(bundle, owner)
        removed.append(bundle.name)
    return removed, in_use


def _younger_than(path: Path, seconds: float) -> bool:
    try:
        return time.time() - path.stat().st_mtime < seconds
    except OSError:
        return True


def _remove_box(bundle: Path, owner: rt.Owner | None) -> None:
    name = owner.runtime if owner else "runc"
    path = shutil.which(name)
    if path is not None:
        runtime = rt.Runtime(name, path)
        argv = runtime.argv(owner.network if owner else "disabled")
        rt.quiet([*argv, "kill", bundle.name, "KILL"])
        rt.quiet([*argv, "delete", "--force", bundle.name])
    shutil.rmtree(bundle, ignore_errors=True)


def _sweep_orphans() -> None:
    """Runtime state and cgroups of boxes whose bundle is gone (a crash mid-cleanup)."""
    bundles = rt.run_dir() / "boxes"
    for name in rt.RUNTIMES:
        state = rt.run_dir() / name
        path = shutil.which(name)
        for entry in sorted(state.iterdir()) if state.is_dir() and path else ():
            box_id = entry.name.split("_", 1)[0]
            if box_id.startswith("rbx-") and not (bundles / box_id).exists():
                rt.quiet([*rt.Runtime(name, path or name).argv(), "delete", "--force", box_id])
    for controller in sorted(rt.CGROUP_ROOT.iterdir()) if rt.CGROUP_ROOT.is_dir() else ():
        parent = controller / rt.CGROUP_PARENT
        for group in sorted(parent.glob("rbx-*")) if parent.is_dir() else ():
            if not (bundles / group.name).exists():
                with contextlib.suppress(OSError):
                    os.rmdir(group)


def unused_images(
    entries: list[CachedImage], in_use: set[str], engine_has: EngineHas | None
) -> list[CachedImage]:
    """Images no live box runs whose source is gone."""
    return [e for e in entries if e.key not in in_use and _source_gone(e, engine_has)]


def _source_gone(image: CachedImage, engine_has: EngineHas | None) -> bool:
    if image.source.startswith(ENGINE_SOURCE):
        return engine_has is not None and engine_has(image.image_id) is False
    ref = ImageRef.parse(image.source) if image.source else None
    return ref is not None and ref.kind != "engine" and not ref.path.exists()


def over_bound(
    entries: list[CachedImage], in_use: set[str], cache_max: int | None
) -> list[CachedImage]:
    """Least recently used images to remove so the cache holds at most ``cache_max`` bytes."""
    if cache_max is None:
        return []
    total = sum(_size(e) for e in entries)
    doomed = []
    for image in sorted(entries, key=lambda e: e.last_used):
        if total <= cache_max:
            break
        if image.key in in_use:
            continue
        doomed.append(image)
        total -= _size(image)
    return doomed


def _size(image: CachedImage) -> int:
    if image.size:
        return image.size
    total = 0
    for folder, _, files in os.walk(image.rootfs):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(folder, name)).st_size
    return total
