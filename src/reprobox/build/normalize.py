"""Rewrite a ``docker save`` archive so that identical inputs give an identical image ID.

Only what the build added is touched; the base image's layers are never rewritten (they are
not even copied: ``docker load`` reuses layers the engine already has). In every new layer,
entries are re-written in a fixed order (by name, hard links last so their targets come
first), mtimes are clamped to ``SOURCE_DATE_EPOCH``, owner names are cleared (numeric ids
stay), and pax records other than extended attributes (atime, ctime) are dropped, as are
overlayfs's own bookkeeping attributes (``user.overlay.*``, which rootless Podman's native
overlay storage leaks into its layers, and ``trusted.overlay.*``). Whiteouts
(``.wh.*``) are ordinary entries and survive as they are. In the config, ``created`` and the
new history entries' times become ``SOURCE_DATE_EPOCH``; the build container's ID and config,
the engine version and the parent-image reference are removed; ``rootfs.diff_ids`` name the
rewritten layers. The image ID is the sha256 of the config bytes, so it is known before load.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import tarfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

from reprobox import errors
from reprobox.build.inputs import rfc3339

Progress = Callable[[str], None]
# "parent": Podman (buildah) records the intermediate image the last step ran on.
VOLATILE_CONFIG = ("container", "container_config", "docker_version", "parent")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class NormalizedImage:
    """The rewritten image: its ID, config, new layers on disk, and a loadable archive."""

    image_id: str
    config: dict[str, Any]
    new_layers: tuple[Path, ...]
    archive: Path


class _ChunkReader(io.RawIOBase):
    """A read-only file over an iterator of byte chunks (the engine's save stream)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks: Iterator[bytes] = iter(chunks)
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        while not self._buffer:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._buffer = bytes(chunk)
        size = min(len(target), len(self._buffer))
        target[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return size


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    return "sha256:" + digest.hexdigest()


def _copy_hashing(source: IO[bytes], target: Path) -> str:
    digest = hashlib.sha256()
    with target.open("wb") as out:
        while block := source.read(_CHUNK):
            digest.update(block)
            out.write(block)
    return "sha256:" + digest.hexdigest()


@dataclass
class _Unpacked:
    files: dict[str, Path]
    digests: dict[str, str]
    links: dict[str, str]


def unpack_save(chunks: Iterable[bytes], base: frozenset[str], workdir: Path) -> _Unpacked:
    """Store the save stream's files under ``workdir``, dropping base layers as they pass."""
    found = _Unpacked({}, {}, {})
    stream = io.BufferedReader(_ChunkReader(chunks), _CHUNK)
    with tarfile.open(fileobj=stream, mode="r|") as tar:
        for index, member in enumerate(tar):
            if member.issym():
                found.links[member.name] = str(PurePosixPath(member.name).parent / member.linkname)
            source = tar.extractfile(member) if member.isfile() else None
            if source is None:
                continue
            path = workdir / f"saved-{index}"
            digest = _copy_hashing(source, path)
            found.digests[member.name] = digest
            if digest in base:
                path.unlink()
            else:
                found.files[member.name] = path
    return found


def _resolve(found: _Unpacked, name: str) -> str:
    for _ in range(8):
        if name not in found.links:
            return name
        name = found.links[name]
    return name


def _read_json(found: _Unpacked, name: str) -> Any:
    path = found.files.get(_resolve(found, name))
    if path is None:
        raise errors.EngineError(f"the saved image has no {name}")
    return json.loads(path.read_bytes())


def rewrite_layer(source: Path, target: Path, epoch: int) -> str:
    """Write ``source`` to ``target`` in the normalized form; returns the new diff ID."""
    with (
        tarfile.open(source, "r:") as tin,
        tarfile.open(target, "w", format=tarfile.PAX_FORMAT) as tout,
    ):
        members = tin.getmembers()
        ordered = sorted(members, key=lambda m: (m.islnk(), m.name))
        for member in ordered:
            data = tin.extractfile(member) if member.isfile() else None
            tout.addfile(normalize_entry(member, epoch), data)
    return sha256_file(target)


# Extended attributes overlayfs keeps for itself on its upper layer (never a file's own).
OVERLAY_XATTRS = ("SCHILY.xattr.user.overlay.", "SCHILY.xattr.trusted.overlay.")


def normalize_entry(member: tarfile.TarInfo, epoch: int) -> tarfile.TarInfo:
    """The entry with its mtime clamped, owner names cleared and volatile pax records dropped."""
    member.mtime = min(int(member.mtime), epoch)
    member.uname = member.gname = ""
    member.pax_headers = {
        k: v
        for k, v in member.pax_headers.items()
        if k.startswith("SCHILY.xattr.") and not k.startswith(OVERLAY_XATTRS)
    }
    return member


def normalize_config(
    config: dict[str, Any], base_history: int, epoch: int, diff_ids: list[str]
) -> dict[str, Any]:
    """The config with build-time and engine-specific fields fixed or removed."""
    fixed = copy.deepcopy(config)
    for key in VOLATILE_CONFIG:
        fixed.pop(key, None)
    stamp = rfc3339(epoch)
    fixed["created"] = stamp
    if isinstance(fixed.get("config"), dict) and "Image" in fixed["config"]:
        fixed["config"]["Image"] = ""
    if isinstance(fixed.get("config"), dict) and fixed["config"].get("Hostname"):
        fixed["config"]["Hostname"] = ""  # Podman: the random name of the build container
    for entry in (fixed.get("history") or [])[base_history:]:
        entry["created"] = stamp
        # Podman (buildah) comments each step with the ID of the image it ran on.
        if str(entry.get("comment", "")).startswith("FROM "):
            del entry["comment"]
    _sort_trailing_labels(fixed.get("history") or [])
    fixed.setdefault("rootfs", {"type": "layers"})["diff_ids"] = diff_ids
    return fixed


def _sort_trailing_labels(history: list[dict[str, Any]]) -> None:
    """Podman appends the build request's labels as ``LABEL`` steps in hash-map order: the
    trailing run of such empty steps is put in one fixed (sorted) order."""
    start = len(history)
    while (
        start > 0
        and history[start - 1].get("empty_layer")
        and ("#(nop) LABEL " in str(history[start - 1].get("created_by", "")))
    ):
        start -= 1
    history[start:] = sorted(history[start:], key=lambda e: str(e.get("created_by", "")))


def config_bytes(config: dict[str, Any]) -> bytes:
    return json.dumps(config, sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True)
class BaseFacts:
    """What normalization must know about the base image."""

    diff_ids: tuple[str, ...]
    history: int


def normalize_save(
    chunks: Iterable[bytes],
    base: BaseFacts,
    epoch: int,
    workdir: Path,
    progress: Progress = lambda _: None,
    tag: str | None = None,
    keep_base: bool = False,
) -> NormalizedImage:
    """Normalize the save stream ``chunks`` into ``workdir``. ``keep_base`` puts the base
    image's layers (unchanged) into the archive too, for engines whose load needs every
    layer (Podman); the image ID is the same either way."""
    found = unpack_save(chunks, frozenset() if keep_base else frozenset(base.diff_ids), workdir)
    manifest = _read_json(found, "manifest.json")[0]
    config = _read_json(found, manifest["Config"])
    old_ids = list(config["rootfs"]["diff_ids"])
    if old_ids[: len(base.diff_ids)] != list(base.diff_ids):
        raise errors.EngineError("the built image does not start with its base image's layers")
    new_ids, new_paths = list(base.diff_ids), []
    for index, layer in enumerate(manifest["Layers"][len(base.diff_ids) :], start=1):
        progress(f"normalizing layer {index}/{len(old_ids) - len(base.diff_ids)}")
        target = workdir / f"layer-{index}.tar"
        source = found.files.get(_resolve(found, layer))
        if source is None:
            raise errors.EngineError(f"the saved image has no layer {layer}")
        new_ids.append(rewrite_layer(source, target, epoch))
        new_paths.append(target)
    fixed = normalize_config(config, base.history, epoch, new_ids)
    archive = workdir / "image.tar"
    base_layers = manifest["Layers"][: len(base.diff_ids)] if keep_base else []
    layers = [found.files[_resolve(found, name)] for name in base_layers] + new_paths
    image_id = write_archive(archive, fixed, new_ids, layers, tag)
    return NormalizedImage(image_id, fixed, tuple(new_paths), archive)


def write_archive(
    archive: Path, config: dict[str, Any], diff_ids: list[str], new: list[Path], tag: str | None
) -> str:
    """A docker-archive with the last ``len(new)`` layers inside (only the new ones, or all);
    returns the image ID."""
    raw = config_bytes(config)
    image_id = "sha256:" + hashlib.sha256(raw).hexdigest()
    layer_names = [f"{d.removeprefix('sha256:')}/layer.tar" for d in diff_ids]
    manifest = [
        {
            "Config": image_id[7:] + ".json",
            "RepoTags": [tag] if tag else None,
            "Layers": layer_names,
        }
    ]
    with tarfile.open(archive, "w") as tar:
        _add_bytes(tar, "manifest.json", json.dumps(manifest).encode())
        _add_bytes(tar, image_id[7:] + ".json", raw)
        for name, path in zip(layer_names[len(diff_ids) - len(new) :], new, strict=True):
            tar.add(str(path), arcname=name)
    return image_id


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))
