"""Compare two normalized images: config fields, and per layer the paths that differ, each
with a one-line likely cause. Pure logic over files on disk: no engine needed."""

from __future__ import annotations

import hashlib
import re
import tarfile
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

SAMPLE = 4096
_CLOCK = re.compile(rb"\b\d{1,2}:\d{2}:\d{2}\b|\b1[5-9]\d{8}\b|\b20\d\d-\d\d-\d\d")


class Kind(StrEnum):
    """What differs about one path."""

    CONTENT = "content"
    MODE = "mode"
    OWNER = "owner"
    LINK = "link target"
    TYPE = "type"
    MTIME = "mtime"
    ONLY_FIRST = "only in first build"
    ONLY_SECOND = "only in second build"


class Cause(StrEnum):
    """The likely causes verify names."""

    BUILD_TIME = "file written at build time: set SOURCE_DATE_EPOCH"
    TIMESTAMP = "file holds the time it was built: derive it from SOURCE_DATE_EPOCH"
    PYC = "pyc embeds mtime: set SOURCE_DATE_EPOCH (ARG SOURCE_DATE_EPOCH before compiling)"
    RANDOM = "random content"
    GENERATED = "content generated at build time differs (see --diffoscope)"
    UMASK = "mode depends on the umask of the checkout or build: use COPY --chmod or RUN chmod"
    OWNER = "owner depends on who built or checked out: use COPY --chown or RUN chown"
    LINK = "link target computed at build time"
    NAME = "a name chosen at build time (random or time-based) exists in only one build"
    TYPE = "the build makes a different kind of file each time"
    COPIED = "files copied into the image differ in content or mode (see the layer's paths)"
    CONFIG = "image config differs: a build argument, label or command computed at build time"


@dataclass(frozen=True)
class Entry:
    """The facts verify compares for one path of a layer."""

    path: str
    type: str
    mode: int
    uid: int
    gid: int
    link: str
    size: int
    sha256: str
    mtime: int
    sample: bytes = b""


@dataclass(frozen=True)
class PathDifference:
    layer: int
    step: str
    path: str
    kinds: tuple[Kind, ...]
    first: str
    second: str
    cause: Cause


@dataclass(frozen=True)
class ConfigDifference:
    field: str
    first: str
    second: str
    cause: Cause


def read_layer(path: Path) -> dict[str, Entry]:
    """Every entry of a layer tarball, with a content hash and a sample of regular files."""
    found: dict[str, Entry] = {}
    with tarfile.open(path, "r:") as tar:
        for member in tar:
            digest, sample = "", b""
            handle = tar.extractfile(member) if member.isfile() else None
            if handle is not None:
                digest, sample = _hash(handle)
            found[member.name] = Entry(
                member.name,
                _type(member),
                member.mode,
                member.uid,
                member.gid,
                member.linkname,
                member.size,
                digest,
                int(member.mtime),
                sample,
            )
    return found


def _hash(handle: Any) -> tuple[str, bytes]:
    digest = hashlib.sha256()
    sample = handle.read(SAMPLE)
    digest.update(sample)
    while block := handle.read(1 << 20):
        digest.update(block)
    return digest.hexdigest(), sample


def _type(member: tarfile.TarInfo) -> str:
    for test, name in (
        (member.isdir, "dir"),
        (member.issym, "symlink"),
        (member.islnk, "hardlink"),
    ):
        if test():
            return name
    return "file" if member.isfile() else "special"


def entry_kinds(a: Entry, b: Entry) -> tuple[Kind, ...]:
    """Which facts differ between two versions of one path."""
    checks = (
        (Kind.TYPE, a.type != b.type),
        (Kind.CONTENT, a.sha256 != b.sha256),
        (Kind.MODE, a.mode != b.mode),
        (Kind.OWNER, (a.uid, a.gid) != (b.uid, b.gid)),
        (Kind.LINK, a.link != b.link),
        (Kind.MTIME, a.mtime != b.mtime),
    )
    return tuple(kind for kind, differs in checks if differs)


def is_text(data: bytes) -> bool:
    if b"\0" in data:
        return False
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    printable = sum(ch.isprintable() or ch in "\n\r\t" for ch in text)
    return printable >= 0.95 * max(len(text), 1)


def content_cause(a: Entry, b: Entry) -> Cause:
    """The likely cause of a content difference, from the path and the two contents."""
    if a.path.endswith(".pyc"):
        return Cause.PYC
    if is_text(a.sample) and is_text(b.sample):
        if _CLOCK.search(a.sample) and _CLOCK.search(b.sample):
            return Cause.TIMESTAMP
        return Cause.GENERATED
    return Cause.RANDOM


def classify(a: Entry, b: Entry, kinds: tuple[Kind, ...]) -> Cause:
    """The one-line likely cause for a path that differs in ``kinds``."""
    if Kind.TYPE in kinds:
        return Cause.TYPE
    if Kind.CONTENT in kinds:
        return content_cause(a, b)
    if Kind.LINK in kinds:
        return Cause.LINK
    if Kind.MODE in kinds:
        return Cause.UMASK
    if Kind.OWNER in kinds:
        return Cause.OWNER
    return Cause.BUILD_TIME


def describe(entry: Entry, kinds: tuple[Kind, ...]) -> str:
    parts = {
        Kind.TYPE: entry.type,
        Kind.CONTENT: f"sha256:{entry.sha256[:12]} ({entry.size} B)",
        Kind.MODE: f"mode {entry.mode:04o}",
        Kind.OWNER: f"owner {entry.uid}:{entry.gid}",
        Kind.LINK: f"-> {entry.link}",
        Kind.MTIME: f"mtime {entry.mtime}",
    }
    return ", ".join(parts[k] for k in kinds if k in parts)


def compare_layers(
    layer: int, step: str, a: dict[str, Entry], b: dict[str, Entry]
) -> list[PathDifference]:
    """The paths that differ between two versions of one layer, in path order."""
    found: list[PathDifference] = []
    for path in sorted(a.keys() | b.keys()):
        if path not in b:
            found.append(
                PathDifference(
                    layer, step, path, (Kind.ONLY_FIRST,), "present", "absent", Cause.NAME
                )
            )
        elif path not in a:
            found.append(
                PathDifference(
                    layer, step, path, (Kind.ONLY_SECOND,), "absent", "present", Cause.NAME
                )
            )
        elif kinds := entry_kinds(a[path], b[path]):
            cause = classify(a[path], b[path], kinds)
            found.append(
                PathDifference(
                    layer,
                    step,
                    path,
                    kinds,
                    describe(a[path], kinds),
                    describe(b[path], kinds),
                    cause,
                )
            )
    return found


def flatten(value: Any, prefix: str = "") -> dict[str, str]:
    """A JSON value as ``{"config.Env[0]": "..."}`` leaf paths."""
    if isinstance(value, dict):
        out: dict[str, str] = {}
        for key, item in value.items():
            out.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(value, list):
        out = {}
        for index, item in enumerate(value):
            out.update(flatten(item, f"{prefix}[{index}]"))
        return out
    return {prefix: repr(value)}


def compare_configs(a: dict[str, Any], b: dict[str, Any]) -> list[ConfigDifference]:
    """Config fields that differ (layer digests are reported per layer, not here)."""
    fa, fb = flatten(a), flatten(b)
    found = []
    for key in sorted(fa.keys() | fb.keys()):
        if key.startswith("rootfs.diff_ids") or fa.get(key) == fb.get(key):
            continue
        first, second = fa.get(key, "(absent)"), fb.get(key, "(absent)")
        found.append(ConfigDifference(key, first, second, config_cause(key, first)))
    return found


def config_cause(field: str, first: str) -> Cause:
    """COPY/ADD history lines name a hash of the copied files (content and mode)."""
    if field.endswith(".created_by") and re.search(r"\b(COPY|ADD) (file|dir|multi):", first):
        return Cause.COPIED
    return Cause.CONFIG


def layer_steps(config: dict[str, Any]) -> list[str]:
    """The ``created_by`` of each history entry that made a layer, in layer order."""
    history = config.get("history") or []
    return [str(h.get("created_by", "")) for h in history if not h.get("empty_layer")]
