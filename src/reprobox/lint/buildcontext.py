"""Facts about a Dockerfile's build context: what the engine would actually send.

The walk applies ``.dockerignore`` with the docker SDK's exact matching rules
(:mod:`reprobox.lint.dockerignore`) and git's ignore rules (:mod:`reprobox.lint.gitignore`),
and does not descend into directories it has already classified (``.git``, virtualenvs,
``node_modules``) or that are excluded for good. It walks the whole context: past
:data:`WALK_LIMIT` entries it stops with :class:`~reprobox.errors.ContextTooLarge` (exit 3)
rather than judge a context it has not fully seen. It also reads the Python version CI pins.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from reprobox import errors
from reprobox.lint import gitignore
from reprobox.lint.dockerignore import DockerIgnore, read_dockerignore
from reprobox.lint.gitignore import GitIgnore, repo_root

WALK_LIMIT = 1_000_000


class Kind(StrEnum):
    """Why an entry of the context is worth a finding."""

    GIT = "git"
    SECRET = "secret"
    VENV = "venv"
    CACHE = "cache"
    GITIGNORED = "gitignored"


_SECRET_NAMES = frozenset(
    {
        ".env",
        ".netrc",
        ".pypirc",
        ".git-credentials",
        ".npmrc",
        "id_rsa",
        "id_dsa",
        "id_ecdsa",
        "id_ed25519",
        "credentials.json",
        "kubeconfig",
        ".htpasswd",
    }
)
_SECRET_DIRS = frozenset({".aws", ".ssh", ".gnupg", ".kube", ".docker", ".azure", "gcloud"})
_SECRET_SUFFIXES = (".pem", ".key", ".p12", ".pfx", ".jks", ".keystore", ".ppk")
_SAFE_ENV = (".example", ".sample", ".template", ".dist", ".defaults")
_VENV_DIRS = frozenset({".venv", "venv", "node_modules", ".tox", ".nox", ".direnv"})
_CACHE_DIRS = frozenset(
    {
        "__pycache__",
        ".pytest_cache",
        ".mypy_cache",
        ".ruff_cache",
        ".hypothesis",
        ".cache",
        ".eggs",
        ".ipynb_checkpoints",
        "htmlcov",
    }
)
_PRUNE = frozenset({".git"}) | _VENV_DIRS | _CACHE_DIRS | _SECRET_DIRS
LOCKFILES = (
    "uv.lock",
    "poetry.lock",
    "Pipfile.lock",
    "pdm.lock",
    "package-lock.json",
    "yarn.lock",
    "pnpm-lock.yaml",
)


def classify(relpath: str, is_dir: bool) -> Kind | None:
    """The kind of a context entry by its name, or None for an ordinary file."""
    name = relpath.rsplit("/", 1)[-1]
    if name == ".git":
        return Kind.GIT
    if is_dir:
        return _classify_dir(name)
    if name in _SECRET_NAMES or name.endswith(_SECRET_SUFFIXES):
        return Kind.SECRET
    if name.startswith(".env.") and not name.endswith(_SAFE_ENV):
        return Kind.SECRET
    if name.endswith((".pyc", ".pyo")):
        return Kind.CACHE
    return None


def _classify_dir(name: str) -> Kind | None:
    if name in _SECRET_DIRS:
        return Kind.SECRET
    if name in _VENV_DIRS:
        return Kind.VENV
    if name in _CACHE_DIRS or name.endswith(".egg-info"):
        return Kind.CACHE
    return None


@dataclass(frozen=True)
class Entry:
    """A notable path that reaches the build context."""

    relpath: str
    kind: Kind


@dataclass(frozen=True)
class CiPin:
    """A Python version a CI config pins, and where."""

    version: str
    path: str
    line: int


@dataclass(frozen=True)
class BuildContext:
    """What reaches the engine when the Dockerfile is built from ``root``."""

    root: Path | None
    has_dockerignore: bool = False
    dockerignore_patterns: tuple[str, ...] = ()
    files: frozenset[str] = frozenset()
    entries: tuple[Entry, ...] = ()
    lockfiles: tuple[str, ...] = ()
    ci_pins: tuple[CiPin, ...] = ()
    problems: tuple[str, ...] = ()
    matcher: DockerIgnore | None = field(default=None, compare=False, repr=False)

    def excluded(self, relpath: str) -> bool:
        """True when ``.dockerignore`` keeps ``relpath`` out of the context."""
        return self.matcher is not None and self.matcher.excluded(relpath)

    def read(self, relpath: str) -> str | None:
        """The text of a context file (None when absent, excluded or unreadable)."""
        if self.root is None or ".." in relpath.split("/") or self.excluded(relpath):
            return None
        try:
            return (self.root / relpath).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None

    def find(self, basename: str) -> tuple[str, ...]:
        """Context files whose name is ``basename``."""
        return tuple(sorted(f for f in self.files if f.rsplit("/", 1)[-1] == basename))


EMPTY = BuildContext(root=None)


def load_context(root: Path, dockerfile_name: str = "Dockerfile") -> BuildContext:
    """Walk ``root`` as the engine would and gather the facts rules use."""
    problems: list[str] = []
    ignore = root / ".dockerignore"
    patterns = _dockerignore(ignore) if ignore.is_file() else ()
    matcher = _matcher([*patterns, f"!{dockerfile_name}"], problems)
    files, entries = _walk(root, matcher, GitIgnore(root))
    lockfiles = tuple(name for name in LOCKFILES if name in files)
    return BuildContext(
        root=root,
        has_dockerignore=ignore.is_file(),
        dockerignore_patterns=patterns,
        files=frozenset(files),
        entries=tuple(entries),
        lockfiles=lockfiles,
        ci_pins=ci_python_pins(root),
        problems=tuple(problems),
        matcher=matcher,
    )


def _dockerignore(path: Path) -> tuple[str, ...]:
    try:
        return read_dockerignore(path)
    except OSError:
        return ()


def _matcher(patterns: list[str], problems: list[str]) -> DockerIgnore:
    try:
        return DockerIgnore(patterns)
    except errors.ContextPatternError as exc:
        problems.append(exc.message)
        return DockerIgnore([])


def _walk(root: Path, matcher: DockerIgnore, git: GitIgnore) -> tuple[set[str], list[Entry]]:
    files: set[str] = set()
    entries: list[Entry] = []
    for seen, (relpath, is_dir, ignored) in enumerate(_entries(root, matcher, git), 1):
        if seen > WALK_LIMIT:
            raise errors.ContextTooLarge(
                f"build context {root} has more than {WALK_LIMIT:,} entries that reach the "
                "engine; lint stops rather than judge a context it has not fully seen",
                hint="exclude bulk data in .dockerignore (an excluded folder is not walked)",
            )
        kind = classify(relpath, is_dir)
        if kind is None and ignored and not is_dir:
            kind = Kind.GITIGNORED
        if kind is not None:
            entries.append(Entry(relpath, kind))
        if not is_dir:
            files.add(relpath)
    return files, entries


def _entries(root: Path, matcher: DockerIgnore, git: GitIgnore) -> Iterator[tuple[str, bool, bool]]:
    """``(path, is_dir, git-ignored)`` for each entry that reaches the context, pruning what
    cannot matter. A folder git ignores makes everything below it ignored."""
    stack = [("", git.root_ignored)]
    while stack:
        rel, parent_ignored = stack.pop()
        listing = _listing(root / rel if rel else root)
        if not parent_ignored and any(e.name == ".gitignore" for e in listing):
            git.enter(root, rel)
        for entry in listing:
            relpath = f"{rel}/{entry.name}" if rel else entry.name
            is_dir = entry.is_dir(follow_symlinks=False)
            excluded = matcher.excluded(relpath)
            descend = is_dir and _descend(matcher, relpath, entry.name, excluded)
            if excluded and not descend:
                continue
            ignored = parent_ignored or git.ignored(relpath, is_dir)
            if not excluded:
                yield relpath, is_dir, ignored
            if descend:
                stack.append((relpath, ignored))


def _listing(folder: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as found:
            return sorted(found, key=lambda e: e.name)
    except OSError:
        return []


def _descend(matcher: DockerIgnore, relpath: str, name: str, excluded: bool) -> bool:
    if excluded:
        return matcher.may_reinclude(relpath)
    return name not in _PRUNE and not name.endswith(".egg-info")


_GHA = re.compile(r"python-version\s*:\s*(.+)")
_GITLAB = re.compile(r"image\s*:\s*[\"']?(?:[\w.\-/]*/)?python:(\d+\.\d+)")
_VERSION = re.compile(r"(?<![\d.])(\d+\.\d+)(?![\d])")


def ci_python_pins(root: Path) -> tuple[CiPin, ...]:
    """Python versions pinned by GitHub Actions ``setup-python`` or GitLab ``image:``."""
    top = repo_root(root)
    if top is None:
        return ()
    pins: list[CiPin] = []
    workflows = top / ".github" / "workflows"
    if workflows.is_dir():
        for path in sorted(workflows.glob("*.y*ml")):
            pins.extend(_scan(path, top, _GHA))
    gitlab = top / ".gitlab-ci.yml"
    if gitlab.is_file():
        pins.extend(_scan(gitlab, top, _GITLAB))
    return tuple(pins)


def _scan(path: Path, top: Path, pattern: re.Pattern[str]) -> list[CiPin]:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    rel = path.relative_to(top).as_posix()
    pins: list[CiPin] = []
    for number, line in enumerate(lines, 1):
        match = pattern.search(line)
        if match and not line.lstrip().startswith("#"):
            pins.extend(CiPin(v, rel, number) for v in _VERSION.findall(match.group(1)))
    return pins


def clear_caches() -> None:
    """Forget cached repository roots and ignore files (called once per lint run)."""
    gitignore.clear_caches()
