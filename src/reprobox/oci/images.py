"""Images for the oci backend: a content-addressed, read-only rootfs cache keyed by image ID.

An image comes from an archive (``docker-archive:PATH``, ``oci-archive:PATH``: no engine at
all) or from the local engine by name (exported once with ``docker save`` through
:mod:`reprobox.engine.images`). It is unpacked by well-kept tools, never by hand:
``skopeo copy`` turns the archive into an OCI layout (checking every blob's digest) and
``umoci raw unpack`` lays the layers down (checking digests and diff IDs, applying whiteouts,
refusing paths that would leave the rootfs, through ``filepath-securejoin``). Device nodes in
a layer are removed afterwards (``/dev`` of a box is its own tmpfs). The result lands in
``<cache>/images/<hex of the image ID>/rootfs`` by an atomic rename, under a lock per image, so
two processes unpacking the same image unpack it once.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import stat
import subprocess
import tarfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from reprobox import cachedir, errors, tools

Kind = Literal["engine", "docker-archive", "oci-archive"]
ARCHIVE_KINDS: tuple[Kind, ...] = ("docker-archive", "oci-archive")
# Mount points a box needs; created in the cached rootfs so nothing is ever written there later.
MOUNT_POINTS = ("proc", "sys", "dev", "tmp", "mnt", "work")
UNPACK_TIMEOUT_S = 600


@dataclass(frozen=True)
class ImageRef:
    """Where an image comes from: an engine image name, or an archive file."""

    kind: Kind
    value: str

    @classmethod
    def parse(cls, text: str) -> ImageRef:
        for kind in ARCHIVE_KINDS:
            prefix = f"{kind}:"
            if text.startswith(prefix):
                path = text[len(prefix) :]
                if not path:
                    raise errors.UsageError(f"{prefix} needs a path: {prefix}PATH")
                return cls(kind, path)
        return cls("engine", text)

    @property
    def path(self) -> Path:
        return Path(self.value).expanduser()


@dataclass(frozen=True)
class CachedImage:
    """An unpacked image: its ID, its read-only rootfs and the config a box needs."""

    image_id: str
    entry: Path
    env: tuple[tuple[str, str], ...]
    user: str
    workdir: str
    source: str = ""
    size: int = 0
    last_used: float = 0.0

    @property
    def rootfs(self) -> Path:
        return self.entry / "rootfs"

    @property
    def key(self) -> str:
        return self.image_id.removeprefix("sha256:")


def cache_root() -> Path:
    """``REPROBOX_CACHE_DIR``, else ``/var/cache/reprobox`` as root, else ``~/.cache/reprobox``
    (``$XDG_CACHE_HOME`` respected); the oci backend's images live under ``oci/`` in it."""
    override = os.environ.get("REPROBOX_CACHE_DIR")
    if override:
        return Path(override)
    return cachedir.default_root() / "oci"


class ImageStore:
    """The rootfs cache at ``root`` (default: :func:`cache_root`)."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or cache_root()

    @property
    def images(self) -> Path:
        return self.root / "images"

    def lookup(self, image_id: str, touch: bool = True) -> CachedImage | None:
        """The cached image ``image_id`` (marked as just used unless not ``touch``), or
        ``None``."""
        entry = self.images / image_id.removeprefix("sha256:")
        try:
            meta = json.loads((entry / "image.json").read_text())
        except (OSError, ValueError):
            return None
        now = time.time()
        if touch:
            with contextlib.suppress(OSError):
                os.utime(entry / "image.json", (now, now))
        else:
            now = (entry / "image.json").stat().st_mtime
        return _cached(entry, meta, now)

    def ensure(
        self,
        image_id: str,
        archive: Callable[[], contextlib.AbstractContextManager[ImageRef]],
        source: str | None = None,
    ) -> CachedImage:
        """The cached image ``image_id``, unpacked from the archive that ``archive()`` gives
        (a context manager, so a temporary export is removed afterwards) when missing;
        ``source`` is recorded for ``gc`` (default: the archive)."""
        found = self.lookup(image_id)
        if found is not None:
            return found
        with self._locked(image_id):
            found = self.lookup(image_id)
            if found is not None:
                return found
            with archive() as ref:
                self._unpack(image_id, ref, source or f"{ref.kind}:{ref.value}")
        made = self.lookup(image_id)
        assert made is not None
        return made

    def entries(self) -> list[CachedImage]:
        """Every complete cache entry."""
        if not self.images.is_dir():
            return []
        found = (self.lookup(f"sha256:{p.name}", False) for p in sorted(self.images.iterdir()))
        return [image for image in found if image is not None]

    def remove(self, image: CachedImage) -> None:
        """Remove one entry: renamed away first, so no reader ever sees half of it."""
        with self._locked(image.image_id):
            doomed = self._scratch("removed")
            with contextlib.suppress(FileNotFoundError):
                image.entry.rename(doomed)
            shutil.rmtree(doomed, ignore_errors=True)

    @contextlib.contextmanager
    def _locked(self, image_id: str) -> Iterator[None]:
        locks = self.root / "locks"
        locks.mkdir(parents=True, exist_ok=True)
        with open(locks / f"{image_id.removeprefix('sha256:')}.lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _scratch(self, what: str) -> Path:
        scratch = self.root / "tmp"
        scratch.mkdir(parents=True, exist_ok=True)
        return scratch / f"{what}-{uuid.uuid4().hex[:12]}"

    def _unpack(self, image_id: str, ref: ImageRef, source: str) -> None:
        work = self._scratch("unpack")
        work.mkdir()
        try:
            layout = work / "layout"
            _tool(["skopeo", "copy", "--quiet", f"{ref.kind}:{ref.path}", f"oci:{layout}:img"])
            rootless = ["--rootless"] if os.geteuid() != 0 else []
            entry = work / "entry"
            entry.mkdir()
            _tool(["umoci", "raw", "unpack", *rootless, "--image", f"{layout}:img",
                   str(entry / "rootfs")])  # fmt: skip
            config = _layout_config(layout)
            size = _sanitize(entry / "rootfs")
            meta = _meta(image_id, config, source, size)
            (entry / "image.json").write_text(json.dumps(meta, indent=1))
            entry.chmod(0o755)
            self.images.mkdir(parents=True, exist_ok=True)
            entry.rename(self.images / image_id.removeprefix("sha256:"))
        finally:
            shutil.rmtree(work, ignore_errors=True)


def archive_image_id(ref: ImageRef) -> str:
    """The image ID (config digest) recorded in an archive, read from its index alone."""
    path = ref.path
    if not path.is_file():
        raise errors.UsageError(f"image archive {path} does not exist")
    try:
        with tarfile.open(path, "r:*") as tar:
            if ref.kind == "docker-archive":
                return _docker_archive_id(tar)
            return _oci_archive_id(tar)
    except (tarfile.TarError, OSError, KeyError, ValueError, IndexError) as exc:
        raise errors.UsageError(f"{path} is not a readable {ref.kind}: {exc}") from exc


def _member_json(tar: tarfile.TarFile, name: str) -> Any:
    handle = tar.extractfile(name)
    if handle is None:
        raise ValueError(f"{name} is not a file")
    return json.loads(handle.read())


def _docker_archive_id(tar: tarfile.TarFile) -> str:
    manifest = _member_json(tar, "manifest.json")
    config = str(manifest[0]["Config"])
    name = config.rsplit("/", 1)[-1].removesuffix(".json")
    return f"sha256:{name}"


def _oci_archive_id(tar: tarfile.TarFile) -> str:
    index = _member_json(tar, "index.json")
    digest = str(index["manifests"][0]["digest"])
    manifest = _member_json(tar, "blobs/" + digest.replace(":", "/", 1))
    return str(manifest["config"]["digest"])


def _layout_config(layout: Path) -> dict[str, Any]:
    def blob(digest: str) -> Any:
        return json.loads((layout / "blobs" / digest.replace(":", "/", 1)).read_text())

    index = json.loads((layout / "index.json").read_text())
    manifest = blob(index["manifests"][0]["digest"])
    config: dict[str, Any] = blob(manifest["config"]["digest"])
    return config.get("config") or {}


def _meta(image_id: str, config: dict[str, Any], source: str, size: int) -> dict[str, Any]:
    return {
        "size": size,
        "id": image_id,
        "env": list(config.get("Env") or []),
        "user": config.get("User") or "",
        "workdir": config.get("WorkingDir") or "",
        "source": source,
        "unpacked": time.time(),
    }


def _cached(entry: Path, meta: dict[str, Any], last_used: float) -> CachedImage:
    pairs = (str(item).partition("=") for item in meta.get("env", []))
    env = tuple((key, value) for key, sep, value in pairs if sep)
    return CachedImage(
        image_id=str(meta["id"]),
        entry=entry,
        env=env,
        user=str(meta.get("user", "")),
        workdir=str(meta.get("workdir", "")),
        source=str(meta.get("source", "")),
        size=int(meta.get("size", 0)),
        last_used=last_used,
    )


def _sanitize(rootfs: Path) -> int:
    """Remove device nodes the layers carried and add the mount points a box needs; returns
    the rootfs's size in bytes."""
    size = 0
    for folder, dirs, files in os.walk(rootfs):
        for name in files + dirs:
            path = os.path.join(folder, name)
            info = os.lstat(path)
            if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode):
                os.unlink(path)
            else:
                size += info.st_size
    for name in MOUNT_POINTS:
        point = rootfs / name
        if not point.is_symlink() and not point.exists():
            point.mkdir(mode=0o755)
    rootfs.chmod(0o755)
    return size


def _tool(cmd: list[str]) -> None:
    try:
        done = subprocess.run(
            cmd, capture_output=True, text=True, timeout=UNPACK_TIMEOUT_S, check=False
        )
    except FileNotFoundError as exc:
        tool = tools.BY_NAME.get(cmd[0], tools.Tool(cmd[0], cmd[0]))
        raise tool.missing("the oci backend unpacks images with it") from exc
    except subprocess.TimeoutExpired as exc:
        raise errors.SandboxError(f"{cmd[0]} took more than {UNPACK_TIMEOUT_S} s") from exc
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        raise errors.SandboxError(
            f"unpacking the image failed: {cmd[0]}: {lines[-1] if lines else 'no message'}"
        )
