"""Split the shell text of a ``RUN`` instruction into simple commands (words), no execution.

``apt-get update && apt-get install -y x | tee log`` becomes three :class:`ShellCommand` objects;
the first two joined by ``&&``, the second piped into the third. Quoting follows POSIX ``shlex``;
a stray quote is kept as a character. A regular expression does the splitting: ``shlex`` was
the slowest part of linting a large corpus.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

_WRAPPERS = frozenset({"sudo", "env", "nice", "nohup", "time", "exec", "command", "xargs"})


@dataclass(frozen=True)
class ShellCommand:
    """One simple command: its words, and whether its output is piped into the next one."""

    words: tuple[str, ...]
    piped: bool = False

    @cached_property
    def memo(self) -> dict[str, object]:
        """Per-command cache for recognisers (see :mod:`reprobox.lint.commands`)."""
        return {}

    @cached_property
    def program(self) -> str:
        """The program run, past ``VAR=value`` prefixes and wrappers such as ``sudo``."""
        argv = self.argv
        return argv[0].rsplit("/", 1)[-1] if argv else ""

    @cached_property
    def argv(self) -> tuple[str, ...]:
        """The words from the program on (assignments and wrappers skipped)."""
        words = self.words
        i = 0
        while i < len(words) and ("=" in words[i] and not words[i].startswith("-")):
            i += 1
        while i < len(words) and words[i].rsplit("/", 1)[-1] in _WRAPPERS:
            i += 1
            while i < len(words) and (words[i].startswith("-") or "=" in words[i]):
                i += 1
        return words[i:]

    @property
    def args(self) -> tuple[str, ...]:
        """The words after the program."""
        return self.argv[1:]

    def has(self, *options: str) -> bool:
        """True when any word equals one of ``options`` or starts with ``option=``."""
        for word in self.words:
            for option in options:
                if word == option or word.startswith(option + "="):
                    return True
        return False


_TOKEN = re.compile(
    r"""(?P<redir>\d*[<>]&\d*-?|&>>?)"""
    r"""|(?P<op>&&|\|\||;;|\|&|[;&|()])"""
    r"""|(?P<word>(?:[^\s;&|()'"\\]|\\.|'[^']*'|"(?:[^"\\]|\\.)*")+)"""
    r"""|(?P<stray>\S)""",
    re.DOTALL,
)
_QUOTED = re.compile(r"""'([^']*)'|"((?:[^"\\]|\\.)*)"|\\(.)""", re.DOTALL)
_DQ_ESCAPE = re.compile(r"""\\([\\"$`])""")


def _unquote(word: str) -> str:
    if "'" not in word and '"' not in word and "\\" not in word:
        return word
    return _QUOTED.sub(_unquote_part, word)


def _unquote_part(match: re.Match[str]) -> str:
    single, double, escaped = match.groups()
    if single is not None:
        return single
    if double is not None:
        return _DQ_ESCAPE.sub(r"\1", double)
    return escaped if escaped != "\n" else ""


def _tokens(text: str) -> list[tuple[bool, str]]:
    """``(is_operator, text)`` pairs, quotes removed from words."""
    tokens: list[tuple[bool, str]] = []
    for match in _TOKEN.finditer(text):
        op = match.group("op")
        if op is not None:
            tokens.append((True, op))
        else:
            tokens.append((False, _unquote(match.group(0))))
    return tokens


def split_commands(text: str) -> tuple[ShellCommand, ...]:
    """The simple commands of a shell text, in order."""
    commands: list[ShellCommand] = []
    words: list[str] = []
    for is_op, token in _tokens(text):
        if is_op:
            if words:
                commands.append(ShellCommand(tuple(words), piped=token in ("|", "|&")))
            words = []
        else:
            words.append(token)
    if words:
        commands.append(ShellCommand(tuple(words)))
    return tuple(commands)


def split_script(script: str) -> tuple[ShellCommand, ...]:
    """The commands of a multi-line script (a heredoc): newlines separate commands."""
    joined = script.replace("\\\n", " ")
    commands: list[ShellCommand] = []
    for line in joined.splitlines():
        if not line.lstrip().startswith("#"):
            commands.extend(split_commands(line))
    return tuple(commands)
