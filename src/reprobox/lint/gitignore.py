"""git's ignore rules for the paths of a build context, with ``pathspec``'s ``GitIgnoreSpec``.

Which files apply, as git reads them: ``.git/info/exclude`` and every ``.gitignore`` from the
repository's top down to the context root, then every ``.gitignore`` inside the context. A path
is decided by the deepest file with a pattern that matches it (the last such pattern in that
file wins, ``!`` re-includes); a path below an ignored directory is ignored whatever follows,
as git never looks inside an ignored directory.

Importing and compiling ``pathspec`` costs more than linting a small file, so each file's
rules first ask a question with an exact "no": a pattern can only match a path that contains
the pattern's literal text (the longest run without ``*``, ``?`` or ``/``); patterns with a
``[...]`` class or a ``\\`` escape, or without such a run, always say "maybe". Only a path
some pattern may match reaches ``GitIgnoreSpec`` (tested against it directly, on generated
patterns and paths, in ``tests/unit/lint/test_gitignore.py``).
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathspec import GitIgnoreSpec

REPO_LEVELS = 6
_RUN_BREAKS = str.maketrans({"*": "/", "?": "/"})


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


class Rules:
    """The patterns of one ignore file, compiled by ``pathspec`` on first real need."""

    __slots__ = ("_spec", "lines", "literals")

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        found = [literals(line) for line in lines if line.strip() and not line.startswith("#")]
        # None: some pattern may match any path; else the texts one of which a match needs.
        texts = {text for alternatives in found for text in alternatives}
        self.literals: tuple[str, ...] | None = None if () in found else tuple(sorted(texts))
        self._spec: GitIgnoreSpec | None = None

    def check(self, path: str) -> bool | None:
        """``GitIgnoreSpec.check_file(path).include``: True ignored, False re-included by a
        ``!`` pattern, None when no pattern matches."""
        if self.literals is not None and not any(text in path for text in self.literals):
            return None
        if self._spec is None:
            self._spec = compile_lines(self.lines)
        return self._spec.check_file(path).include


def compile_lines(lines: list[str]) -> GitIgnoreSpec:
    """The ``GitIgnoreSpec`` of ``lines``; a line git cannot use (a trailing ``\\``) is
    skipped, as git skips it, where pathspec would refuse the whole file."""
    from pathspec import GitIgnoreSpec

    try:
        return GitIgnoreSpec.from_lines(lines)
    except ValueError:
        return GitIgnoreSpec.from_lines([line for line in lines if _usable(line)])


def _usable(line: str) -> bool:
    from pathspec import GitIgnoreSpec

    try:
        GitIgnoreSpec.from_lines([line])
    except ValueError:
        return False
    return True


def literals(line: str) -> tuple[str, ...]:
    """Texts one of which every path a gitignore ``line`` matches contains (``()``: none to
    rely on): the longest run of plain characters, with ``\\x`` escapes, wildcards and
    ``/`` as breaks; a small class such as ``[cod]`` gives one text per character."""
    pattern = line.strip()
    pattern = pattern[1:] if pattern.startswith("!") else pattern
    pieces = _pieces(re.sub(r"\\.?", "/", pattern))
    if pieces is None:
        return ()
    found = {max("".join(p).translate(_RUN_BREAKS).split("/"), key=len) for p in pieces}
    return () if "" in found else tuple(sorted(found))


def _pieces(pattern: str) -> list[list[str]] | None:
    """Every spelling of ``pattern`` with each small ``[...]`` class expanded (others become a
    break); None for an unclosed class."""
    spellings: list[list[str]] = [[]]
    i = 0
    while i < len(pattern):
        if pattern[i] != "[":
            for spelling in spellings:
                spelling.append(pattern[i])
            i += 1
            continue
        start = i + 2 if pattern.startswith(("[!", "[^"), i) else i + 1
        close = pattern.find("]", start + 1 if pattern.startswith("]", start) else start)
        if close < 0:
            return None
        body = pattern[i + 1 : close]
        small = start == i + 1 and "-" not in body and "/" not in body and len(body) <= 4
        choices = list(body) if small and len(spellings) * len(body) <= 16 else ["/"]
        spellings = [[*spelling, choice] for spelling in spellings for choice in choices]
        i = close + 1
    return spellings


@lru_cache(maxsize=512)
def _spec(path: Path) -> Rules | None:
    """The rules of one ignore file; None when it is absent or has no pattern."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    if not any(line.strip() and not line.startswith("#") for line in lines):
        return None
    return Rules(lines)


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
        self._specs: dict[str, Rules] = {}
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
                verdict = spec.check(path[len(base) + 1 if base else 0 :] + suffix)
                if verdict is not None:
                    return verdict
        if self._exclude is not None:
            return self._exclude.check(path + suffix) is True
        return False


def clear_caches() -> None:
    """Forget cached repository roots and ignore files (called once per lint run)."""
    _repo_root.cache_clear()
    _spec.cache_clear()
