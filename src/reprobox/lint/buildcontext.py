"""Facts about a Dockerfile's build context: what the engine would actually send.

The walk applies ``.dockerignore`` with the engine's own matching rules (through
:mod:`reprobox.engine.dockerignore`), does not descend into directories it has already classified
(``.git``, virtualenvs, ``node_modules``) or that are excluded for good, and stops after
:data:`WALK_LIMIT` entries. It also reads ``.gitignore`` files and the Python version CI pins.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from reprobox import errors
from reprobox.engine.dockerignore import ContextMatcher, context_matcher, read_dockerignore

WALK_LIMIT = 50_000
_REPO_LEVELS = 6


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
    truncated: bool = False
    problems: tuple[str, ...] = ()
    matcher: ContextMatcher | None = field(default=None, compare=False, repr=False)

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
    git = _matcher(gitignore_patterns(root), problems)
    files, entries, truncated = _walk(root, matcher, git)
    lockfiles = tuple(name for name in LOCKFILES if name in files)
    return BuildContext(
        root=root,
        has_dockerignore=ignore.is_file(),
        dockerignore_patterns=patterns,
        files=frozenset(files),
        entries=tuple(entries),
        lockfiles=lockfiles,
        ci_pins=ci_python_pins(root),
        truncated=truncated,
        problems=tuple(problems),
        matcher=matcher,
    )


def _dockerignore(path: Path) -> tuple[str, ...]:
    try:
        return read_dockerignore(path)
    except OSError:
        return ()


def _matcher(patterns: list[str], problems: list[str]) -> ContextMatcher:
    try:
        return context_matcher(patterns)
    except errors.ContextPatternError as exc:
        problems.append(exc.message)
        return context_matcher([])


def _walk(
    root: Path, matcher: ContextMatcher, git: ContextMatcher
) -> tuple[set[str], list[Entry], bool]:
    files: set[str] = set()
    entries: list[Entry] = []
    for relpath, is_dir in _entries(root, matcher):
        if len(files) >= WALK_LIMIT:
            return files, entries, True
        kind = classify(relpath, is_dir)
        if kind is None and not is_dir and _safe(git.excluded, relpath):
            kind = Kind.GITIGNORED
        if kind is not None:
            entries.append(Entry(relpath, kind))
        if not is_dir:
            files.add(relpath)
    return files, entries, False


def _safe(check: Callable[[str], bool], relpath: str) -> bool:
    try:
        return check(relpath)
    except errors.ContextPatternError:
        return False


def _entries(root: Path, matcher: ContextMatcher) -> Iterator[tuple[str, bool]]:
    """Context-relative paths that reach the context, pruning what cannot matter."""
    stack = [""]
    while stack:
        rel = stack.pop()
        try:
            with os.scandir(root / rel if rel else root) as found:
                listing = sorted(found, key=lambda e: e.name)
        except OSError:
            continue
        for entry in listing:
            relpath = f"{rel}/{entry.name}" if rel else entry.name
            is_dir = entry.is_dir(follow_symlinks=False)
            excluded = _safe(matcher.excluded, relpath)
            if not excluded:
                yield relpath, is_dir
            if is_dir and _descend(matcher, relpath, entry.name, excluded):
                stack.append(relpath)


def _descend(matcher: ContextMatcher, relpath: str, name: str, excluded: bool) -> bool:
    if excluded:
        return matcher.may_reinclude(relpath)
    return name not in _PRUNE and not name.endswith(".egg-info")


def repo_root(start: Path) -> Path | None:
    """The nearest directory at or above ``start`` holding ``.git`` (a few levels at most)."""
    return _repo_root(os.path.realpath(start))


@lru_cache(maxsize=256)
def _repo_root(start: str) -> Path | None:
    current = start
    for _ in range(_REPO_LEVELS):
        if os.path.exists(os.path.join(current, ".git")):
            return Path(current)
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent
    return None


def gitignore_patterns(root: Path) -> list[str]:
    """``.gitignore`` rules from ``root`` up to its repository, as ``.dockerignore`` patterns."""
    here = Path(os.path.realpath(root))
    top = repo_root(here) or here
    patterns: list[str] = []
    for directory, lines in _gitignores(top, here):
        prefix = here.relative_to(directory).as_posix() if directory != here else ""
        for line in lines:
            patterns.extend(_translate(line.rstrip(), prefix))
    return patterns


def _gitignores(top: Path, here: Path) -> list[tuple[Path, tuple[str, ...]]]:
    """The ``.gitignore`` lines of ``top`` .. ``here``, outermost first."""
    parts = here.relative_to(top).parts if here.is_relative_to(top) else ()
    found: list[tuple[Path, tuple[str, ...]]] = []
    current = top if parts or here == top else here
    for part in ("", *parts):
        current = current / part if part else current
        found.append((current, _read_lines(current / ".gitignore")))
    return found


@lru_cache(maxsize=512)
def _read_lines(path: Path) -> tuple[str, ...]:
    try:
        return tuple(path.read_text(encoding="utf-8", errors="replace").splitlines())
    except OSError:
        return ()


def _translate(line: str, prefix: str) -> list[str]:
    """One gitignore line as docker patterns relative to a context ``prefix`` below it."""
    if not line or line.startswith("#"):
        return []
    bang = "!" if line.startswith("!") else ""
    pattern = line[1:] if bang else line
    pattern = pattern.rstrip("/")
    if not pattern:
        return []
    if "/" not in pattern:
        return [f"{bang}{pattern}", f"{bang}**/{pattern}"]
    pattern = pattern.lstrip("/")
    if not prefix:
        return [f"{bang}{pattern}"]
    if pattern.startswith(prefix + "/"):
        return [f"{bang}{pattern[len(prefix) + 1 :]}"]
    return []


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
    """Forget cached repository roots and ``.gitignore`` files (called once per lint run)."""
    _repo_root.cache_clear()
    _read_lines.cache_clear()
