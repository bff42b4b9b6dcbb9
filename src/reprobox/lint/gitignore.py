"""git's ignore rules for the paths of a build context, with ``pathspec``'s ``GitIgnoreSpec``.

Which files apply, as git reads them: ``.git/info/exclude`` and every ``.gitignore`` from the
repository's top down to the context root, then every ``.gitignore`` inside the context. A path
is decided by the deepest file with a pattern that matches it (the last such pattern in that
file wins, ``!`` re-includes); a path below an ignored directory is ignored whatever follows,
as git never looks inside an ignored directory. ``pathspec`` is imported only when some file
has a pattern, so a project without ``.gitignore`` does not pay for it.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathspec import GitIgnoreSpec

REPO_LEVELS = 6


@lru_cache(maxsize=256)
def _repo_root(start: str) -> Path | None:
    current = start
    for _ in range(REPO_LEVELS):
        if os.path.exists(os.path.join(current, ".git")):
            return Path(current)
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent
    return None


def repo_root(start: Path) -> Path | None:
    """The nearest directory at or above ``start`` holding ``.git`` (a few levels at most)."""
    return _repo_root(os.path.realpath(start))


@lru_cache(maxsize=512)
def _spec(path: Path) -> GitIgnoreSpec | None:
    """The compiled rules of one ignore file; None when it is absent or has no pattern."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    if not any(line.strip() and not line.startswith("#") for line in lines):
        return None
    from pathspec import GitIgnoreSpec

    return GitIgnoreSpec.from_lines(lines)


class GitIgnore:
    """Answers "does git ignore this context path?" for one build context.

    Every rule file is kept under its folder relative to the repository's top (the context
    root when there is no repository); context paths are seen from there too.
    """

    def __init__(self, root: Path) -> None:
        here = Path(os.path.realpath(root))
        top = repo_root(here) or here
        inside = here.relative_to(top).parts if here.is_relative_to(top) else ()
        self._prefix = "/".join(inside)
        self._specs: dict[str, GitIgnoreSpec] = {}
        self._exclude = _spec(top / ".git" / "info" / "exclude")
        for depth in range(len(inside) + 1):
            self._load("/".join(inside[:depth]), top.joinpath(*inside[:depth]))
        self.root_ignored = any(
            self._decide("/".join(inside[:depth]), True) for depth in range(1, len(inside) + 1)
        )

    def _load(self, base: str, folder: Path) -> None:
        spec = _spec(folder / ".gitignore")
        if spec is not None:
            self._specs[base] = spec

    def enter(self, root: Path, reldir: str) -> None:
        """Read the ``.gitignore`` of context folder ``reldir`` (the walk found one there)."""
        self._load(self._full(reldir), root / reldir)

    def ignored(self, relpath: str, is_dir: bool) -> bool:
        """True when a rule matches ``relpath`` (context-relative) itself, folders aside."""
        return self._decide(self._full(relpath), is_dir)

    def _full(self, relpath: str) -> str:
        return f"{self._prefix}/{relpath}" if self._prefix and relpath else self._prefix or relpath

    def _decide(self, path: str, is_dir: bool) -> bool:
        """The deepest rule file with a matching pattern decides; then ``info/exclude``."""
        suffix = "/" if is_dir else ""
        base = path
        while base:
            base = base.rpartition("/")[0]
            spec = self._specs.get(base)
            if spec is not None:
                verdict = spec.check_file(path[len(base) + 1 if base else 0 :] + suffix).include
                if verdict is not None:
                    return verdict
        if self._exclude is not None:
            return self._exclude.check_file(path + suffix).include is True
        return False


def clear_caches() -> None:
    """Forget cached repository roots and ignore files (called once per lint run)."""
    _repo_root.cache_clear()
    _spec.cache_clear()
