"""``.dockerignore`` matching with the exact rules of the docker SDK's ``PatternMatcher``.

``reprobox build`` sends the context through the docker SDK (``exclude_paths``), so this is what
the engine receives. Importing the SDK costs ~90 ms (requests, urllib3), more than the whole lint
of a file, so the same rules are written out here with the standard library and proven identical
by a differential property test (``tests/unit/lint/test_dockerignore.py``) that runs both on
generated patterns and paths. The rules, as the SDK applies them:

* a leading ``!`` re-includes; the rest is stripped of surrounding white space, split on ``/``,
  empty and ``.`` parts dropped and ``..`` cancelling the part before it; patterns that end up
  empty are ignored; ``!.dockerignore`` is always appended;
* matching is case-insensitive (both sides lower-cased); ``*`` and ``?`` never cross a ``/``,
  ``**`` crosses any number of parts (and swallows a following ``/``), a trailing ``**`` matches
  everything, ``[...]`` is a character class (``[!...]`` negated), an unclosed ``[`` is literal;
* a pattern of N parts also matches a path whose parent's first N parts it matches (so ``build``
  excludes ``build/x/y``); the last pattern that matches decides.
"""

from __future__ import annotations

import posixpath
import re
import warnings
from collections.abc import Sequence
from pathlib import Path

from reprobox import errors

_HINT = "check the .dockerignore syntax (an unbalanced '[' or a bad range such as [z-a])"


class Pattern:
    """One cleaned pattern: its parts, whether it re-includes, and its compiled glob.

    Compiling a regular expression costs more than linting a small file, so a pattern keeps
    its literal tail (what every match must end with) and compiles only for a path that ends
    so; a pattern with no wildcard at all is compared as text. A pattern with a ``[...]`` class
    compiles at once, as only such a class can be invalid, and the SDK refuses it at once.
    """

    __slots__ = ("_regex", "literal", "negated", "parts", "source", "tail")

    def __init__(self, parts: tuple[str, ...], negated: bool, source: str, tail: str) -> None:
        self.parts = parts
        self.negated = negated
        self.source = source  # the translated regular expression
        self.tail = tail
        self.literal = source == _anchored(tail)
        self._regex: re.Pattern[str] | None = None

    @property
    def cleaned(self) -> str:
        return "/".join(self.parts)

    def compile(self) -> re.Pattern[str]:
        if self._regex is None:
            with warnings.catch_warnings():
                # "[[" makes re warn about a possible nested set; the SDK compiles it anyway.
                warnings.simplefilter("ignore", FutureWarning)
                self._regex = re.compile(self.source)
        return self._regex

    def hits(self, lowered: str) -> bool:
        """The SDK's ``re.match("^...$", path)`` ("$" also matches before a final newline)."""
        tail = self.tail
        if tail and not lowered.endswith(tail) and not lowered.endswith(tail + "\n"):
            return False
        if self.literal:
            return lowered == tail or lowered == tail + "\n"
        return self.compile().match(lowered) is not None


def _anchored(literal: str) -> str:
    return "^" + "".join(re.escape(char) for char in literal) + "$"


def clean_parts(text: str) -> tuple[str, ...]:
    """A pattern's parts: white space stripped, empty and ``.`` dropped, ``..`` resolved."""
    parts: list[str] = []
    for part in text.strip().split("/"):
        if part == "..":
            if parts:
                parts.pop()
        elif part and part != ".":
            parts.append(part)
    return tuple(parts)


def translate(pattern: str) -> str:
    """A glob as an anchored regular expression (the SDK's dialect, see the module doc)."""
    return _translate(pattern)[0]


def _translate(pattern: str) -> tuple[str, str, bool]:
    """The regular expression, its literal tail, and whether it holds a ``[...]`` class."""
    out = ["^"]
    tail: list[str] = []
    has_class = False
    i, end = 0, len(pattern)
    while i < end:
        char = pattern[i]
        i += 1
        if char == "*":
            piece, i = _star(pattern, i)
        elif char == "?":
            piece = "[^/]"
        elif char == "[":
            piece, i = _bracket(pattern, i)
        else:
            piece = re.escape(char)
        literal = piece == re.escape(char) and char not in "*?" and (char != "[" or piece == r"\[")
        tail = [*tail, char] if literal else []
        has_class = has_class or (char == "[" and not literal)
        out.append(piece)
    out.append("$")
    return "".join(out), "".join(tail), has_class


def _star(pattern: str, i: int) -> tuple[str, int]:
    """The regex for a ``*`` whose next character is at ``i``, and where to go on."""
    if not pattern.startswith("*", i):
        return "[^/]*", i
    i += 1
    if pattern.startswith("/", i):
        i += 1
    return (".*", i) if i >= len(pattern) else ("(.*/)?", i)


def _bracket(pattern: str, i: int) -> tuple[str, int]:
    """The regex for a ``[`` whose class starts at ``i``; unclosed means a literal ``[``."""
    close = i + 1 if pattern.startswith("!", i) else i
    if pattern.startswith("]", close):
        close += 1
    close = pattern.find("]", close)
    if close < 0:
        return r"\[", i
    body = pattern[i:close].replace("\\", "\\\\")
    if body.startswith("!"):
        body = "^" + body[1:]
    elif body.startswith("^"):
        body = "\\" + body
    return f"[{body}]", close + 1


def compile_pattern(line: str) -> Pattern | None:
    """One ``.dockerignore`` line as a :class:`Pattern`; None when it cleans to nothing."""
    negated = line.startswith("!")
    parts = clean_parts(line[1:] if negated else line)
    if not parts:
        return None
    source, tail, has_class = _translate("/".join(parts).lower())
    pattern = Pattern(parts, negated, source, tail)
    if has_class:
        try:
            pattern.compile()
        except re.error as exc:
            raise errors.ContextPatternError(
                f"unusable .dockerignore pattern {line!r}: {exc}", hint=_HINT
            ) from exc
    return pattern


class DockerIgnore:
    """Decides whether a context-relative path is excluded, with the SDK's rules."""

    def __init__(self, lines: Sequence[str]) -> None:
        found = (compile_pattern(line) for line in [*lines, "!.dockerignore"])
        self.patterns: tuple[Pattern, ...] = tuple(p for p in found if p is not None)

    def matches(self, path: str) -> bool:
        """The SDK's ``PatternMatcher.matches``: True when ``path`` is excluded."""
        lowered = path.lower()
        parent = posixpath.dirname(path)
        parents = [p for p in parent.split("/") if p and p != "."] if parent else []
        for pattern in reversed(self.patterns):
            if pattern.hits(lowered) or _parent_match(pattern, parents):
                return not pattern.negated
        return False

    def excluded(self, relpath: str) -> bool:
        """True when ``relpath`` (``/``-separated, relative to the context) is excluded."""
        path = relpath.strip("/")
        return bool(path) and path != "." and self.matches(path)

    def may_reinclude(self, reldir: str) -> bool:
        """The SDK walk's test: does a ``!pattern`` start with this excluded directory?"""
        prefix = reldir.strip("/")
        return any(p.negated and p.cleaned.startswith(prefix) for p in self.patterns)


def _parent_match(pattern: Pattern, parents: list[str]) -> bool:
    depth = len(pattern.parts)
    if not parents or depth > len(parents):
        return False
    return pattern.hits("/".join(parents[:depth]).lower())


def read_dockerignore(path: Path) -> tuple[str, ...]:
    """The patterns of a ``.dockerignore`` file: lines stripped, blanks and comments dropped."""
    text = path.read_text(encoding="utf-8", errors="replace")
    lines = (line.strip() for line in text.splitlines())
    return tuple(line for line in lines if line and not line.startswith("#"))
