"""The inputs of a reproducible build: the source date, git facts, and the context tarball.

``SOURCE_DATE_EPOCH`` comes from the environment, else the last commit's time, else 0. The
context is sent as a tarball reprobox writes itself, so that nothing of the checkout that a
fresh clone would not reproduce reaches the image: every entry's mtime is the source date, its
owner is root, and files tracked by git get git's modes (0644, or 0755 when executable)
instead of whatever the checkout's umask made of them. Untracked files keep their modes.
"""

from __future__ import annotations

import os
import re
import subprocess
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from reprobox import errors
from reprobox.engine import images

REVISION = "org.opencontainers.image.revision"
SOURCE = "org.opencontainers.image.source"
CREATED = "org.opencontainers.image.created"
CONTEXT = "io.reprobox.build.context"
_NETWORK_SCHEMES = frozenset({"https", "ssh", "git", "git+ssh", "ssh+git"})
_SCP_LIKE = re.compile(r"^(?:[^@/:]+@)?([A-Za-z0-9][A-Za-z0-9.-]*):(?!//)([^:]+)$")


@dataclass(frozen=True)
class BuildInputs:
    """Everything that identifies a build besides the context's file contents."""

    source_date_epoch: int
    sde_origin: str
    revision: str = ""
    source: str = ""
    repo_subdir: str = ""
    git_modes: Mapping[str, int] = field(default_factory=dict)

    def labels(self) -> dict[str, str]:
        found = {CREATED: rfc3339(self.source_date_epoch)}
        for key, value in ((REVISION, self.revision), (SOURCE, self.source)):
            if value:
                found[key] = value
        if self.revision:
            found[CONTEXT] = self.repo_subdir or "."
        return found


def rfc3339(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, check=False, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.decode("utf-8", "replace") if done.returncode == 0 else None


def resolve_inputs(root: Path, environ: Mapping[str, str] | None = None) -> BuildInputs:
    """Read the source date and git facts for the context ``root``."""
    env = os.environ if environ is None else environ
    revision = (_git(root, "rev-parse", "HEAD") or "").strip()
    sde, origin = _source_date(root, env, bool(revision))
    if not revision:
        return BuildInputs(sde, origin)
    remote = (_git(root, "remote", "get-url", "origin") or "").strip()
    subdir = (_git(root, "rev-parse", "--show-prefix") or "").strip().rstrip("/")
    return BuildInputs(sde, origin, revision, source_url(remote), subdir, _tracked_modes(root))


def source_url(remote: str) -> str:
    """``remote`` as an image's source label: a network URL without userinfo, else ``""``.

    Only https, ssh and git URLs (and ssh's ``host:path`` form) qualify: a local path or a
    ``file://`` URL is a fact of this host, and would give clones of different folders different
    image IDs. An https URL with a user name or password carries credentials and is dropped
    whole; an ssh user name (``git@``) is not a secret and is only removed. Queries and
    fragments are dropped too.
    """
    if "://" in remote:
        return _network_url(remote)
    match = _SCP_LIKE.match(remote)
    if match is None:
        return ""
    return f"ssh://{match.group(1)}/{match.group(2).lstrip('/')}"


def _network_url(remote: str) -> str:
    try:
        parts = urlsplit(remote)
        port = parts.port
    except ValueError:
        return ""
    scheme, host = parts.scheme.lower(), parts.hostname
    if scheme not in _NETWORK_SCHEMES or not host or parts.password is not None:
        return ""
    if scheme == "https" and parts.username is not None:
        return ""
    netloc = f"[{host}]" if ":" in host else host
    return urlunsplit((scheme, netloc + (f":{port}" if port else ""), parts.path, "", ""))


def _source_date(root: Path, env: Mapping[str, str], in_git: bool) -> tuple[int, str]:
    value = env.get("SOURCE_DATE_EPOCH", "").strip()
    if value:
        if not value.isdigit():
            raise errors.UsageError(f"SOURCE_DATE_EPOCH={value!r} is not a number of seconds")
        return int(value), "environment"
    if in_git:
        stamp = (_git(root, "log", "-1", "--format=%ct") or "").strip()
        if stamp.isdigit():
            return int(stamp), "last git commit"
    return 0, "default: no git history, no SOURCE_DATE_EPOCH"


def _tracked_modes(root: Path) -> dict[str, int]:
    listing = _git(root, "ls-files", "-s", "-z") or ""
    modes: dict[str, int] = {}
    for record in listing.split("\0"):
        meta, _, path = record.partition("\t")
        if path and meta.startswith("100"):
            modes[path] = 0o755 if meta.startswith("100755") else 0o644
    return modes


def write_context(root: Path, inputs: BuildInputs, dockerfile: str, target: Path) -> int:
    """Write the normalized context tarball of ``root`` to ``target``; returns its entry count."""
    if not root.is_dir():
        raise errors.UsageError(f"{root} is not a directory")
    paths = _with_parents(images.context_files(root, dockerfile))
    with tarfile.open(target, "w", format=tarfile.PAX_FORMAT) as tar:
        for rel in paths:
            _add(tar, root, rel, inputs)
    return len(paths)


def _with_parents(paths: list[str]) -> list[str]:
    found = set(paths)
    for rel in paths:
        parent = Path(rel).parent
        while str(parent) != ".":
            found.add(parent.as_posix())
            parent = parent.parent
    return sorted(found)


def _add(tar: tarfile.TarFile, root: Path, rel: str, inputs: BuildInputs) -> None:
    info = tar.gettarinfo(str(root / rel), arcname=rel)
    info.mtime = inputs.source_date_epoch
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.pax_headers = {}
    if info.isdir():
        info.mode = 0o755 if inputs.revision else info.mode
    elif info.isfile() or info.islnk():
        info.type = tarfile.REGTYPE
        info.size = (root / rel).stat().st_size
        info.mode = inputs.git_modes.get(rel, info.mode)
    if info.isfile():
        with (root / rel).open("rb") as handle:
            tar.addfile(info, handle)
    else:
        tar.addfile(info)
