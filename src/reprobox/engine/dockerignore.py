"""The engine's own ``.dockerignore`` matching rules, as a typed facade over the docker SDK.

The docker SDK implements the same matching the engine applies when it sends a build context
(``docker.utils.build.PatternMatcher``). Nothing outside :mod:`reprobox.engine` imports docker,
so the lint package asks this module whether a path reaches the context.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from pathlib import Path

from docker.utils.build import PatternMatcher
from docker.utils.fnmatch import fnmatch

from reprobox import errors


class ContextMatcher:
    """Decides, with the engine's rules, whether a context-relative path is excluded."""

    def __init__(self, patterns: Sequence[str]) -> None:
        try:
            self._matcher = PatternMatcher(list(patterns))
            with warnings.catch_warnings():
                # Patterns such as "[[" make re warn about nested sets; compile them once,
                # quietly (the SDK caches compiled patterns), instead of warning per path.
                warnings.simplefilter("ignore", FutureWarning)
                for pattern in self._matcher.patterns:
                    fnmatch("probe", pattern.cleaned_pattern)
        except (re.error, ValueError, IndexError) as exc:
            raise errors.ContextPatternError(
                f"unusable .dockerignore pattern: {exc}",
                hint="check the .dockerignore syntax (unbalanced '[' or a trailing '\\')",
            ) from exc

    def excluded(self, relpath: str) -> bool:
        """True when ``relpath`` (``/``-separated, relative to the context) is excluded."""
        path = relpath.strip("/")
        if not path or path == ".":
            return False
        try:
            return bool(self._matcher.matches(path))  # type: ignore[arg-type]
        except (re.error, ValueError, IndexError) as exc:
            raise errors.ContextPatternError(f"unusable .dockerignore pattern: {exc}") from exc

    def may_reinclude(self, reldir: str) -> bool:
        """True when a ``!pattern`` could bring back something below an excluded directory."""
        prefix = reldir.strip("/")
        return any(
            p.exclusion and p.cleaned_pattern.startswith(prefix) for p in self._matcher.patterns
        )


def read_dockerignore(path: Path) -> tuple[str, ...]:
    """The patterns of a ``.dockerignore`` file, read exactly as the docker SDK reads them."""
    text = path.read_text(encoding="utf-8", errors="replace")
    lines = (line.strip() for line in text.splitlines())
    return tuple(line for line in lines if line and not line.startswith("#"))


def context_matcher(patterns: Sequence[str]) -> ContextMatcher:
    """A matcher for ``patterns`` (the lines of a ``.dockerignore``, or gitignore-derived)."""
    return ContextMatcher(patterns)
