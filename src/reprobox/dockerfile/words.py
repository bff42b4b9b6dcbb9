"""Word processing as the builder does it for ``FROM`` and ``ARG``: quotes, escapes, variables.

``"reprobox/python:3.11-bookworm"`` loses its quotes, ``'$X'`` stays literal, ``\\$`` is a
dollar sign, and ``$V``, ``${V}``, ``${V:-word}``, ``${V-word}``, ``${V:+word}``, ``${V+word}``
are expanded (``word`` itself expanded too). Unlike the builder, a variable that has no value is
kept as written (``${BASE}``), so callers can tell an unresolved reference by the ``$`` left in.
Forms this module does not know (``${V#x}``, ``${V?err}``) are kept as written for the same reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPERATORS = (":-", ":+", "-", "+")


def expand(word: str, values: Mapping[str, str], escape: str = "\\") -> str:
    """``word`` with quotes removed, escapes applied and variables from ``values`` expanded."""
    return _Lexer(word, values, escape).run()


class _Lexer:
    """One pass over a word; ``pos`` moves forward only."""

    def __init__(self, word: str, values: Mapping[str, str], escape: str) -> None:
        self.word = word
        self.values = values
        self.escape = escape
        self.pos = 0

    def run(self) -> str:
        return self._scan(None)

    def _scan(self, quote: str | None) -> str:
        """Read up to the closing ``quote`` (the whole word when None), processing as we go."""
        out: list[str] = []
        while self.pos < len(self.word):
            char = self.word[self.pos]
            self.pos += 1
            if char == quote:
                return "".join(out)
            if quote is None and char == "'":
                out.append(self._single_quoted())
            elif quote is None and char == '"':
                out.append(self._scan('"'))
            elif char == self.escape and self._escapes(quote):
                out.append(self.word[self.pos])
                self.pos += 1
            elif char == "$":
                out.append(self._variable())
            else:
                out.append(char)
        return (quote or "") + "".join(out)  # an unterminated quote is kept as a character

    def _escapes(self, quote: str | None) -> bool:
        """Whether the escape character just read escapes the next one (in double quotes,
        only a quote, a dollar or the escape character itself)."""
        following = self.word[self.pos : self.pos + 1]
        return bool(following) and (quote is None or following in ('"', "$", self.escape))

    def _single_quoted(self) -> str:
        end = self.word.find("'", self.pos)
        if end < 0:
            return "'"
        text = self.word[self.pos : end]
        self.pos = end + 1
        return text

    def _variable(self) -> str:
        """Expand the variable after a ``$`` (``pos`` is just past it)."""
        if self.word.startswith("{", self.pos):
            return self._braced()
        match = _NAME.match(self.word, self.pos)
        if not match:
            return "$"
        self.pos = match.end()
        name = match.group()
        value = self.values.get(name)
        return value if value is not None else f"${name}"

    def _braced(self) -> str:
        end = _closing_brace(self.word, self.pos)
        if end < 0:
            return "$"
        body = self.word[self.pos + 1 : end]
        self.pos = end + 1
        match = _NAME.match(body)
        if not match:
            return "${" + body + "}"
        name, rest = match.group(), body[match.end() :]
        value = self.values.get(name)
        if not rest:
            return value if value is not None else "${" + body + "}"
        operator = next((op for op in _OPERATORS if rest.startswith(op)), None)
        if operator is None:
            return "${" + body + "}"
        return _apply(
            operator, value, lambda: expand(rest[len(operator) :], self.values, self.escape)
        )


def _apply(operator: str, value: str | None, word: Callable[[], str]) -> str:
    if operator == ":-":
        return value if value else word()
    if operator == "-":
        return value if value is not None else word()
    if operator == ":+":
        return word() if value else ""
    return word() if value is not None else ""


def _closing_brace(text: str, start: int) -> int:
    """The index of the ``}`` that closes the ``{`` at ``start`` (nested braces counted)."""
    depth = 0
    for index in range(start, len(text)):
        if text[index] == "{":
            depth += 1
        elif text[index] == "}":
            depth -= 1
            if depth == 0:
                return index
    return -1
