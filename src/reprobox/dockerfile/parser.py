"""Build the :class:`~reprobox.dockerfile.model.Dockerfile` from the official parser's output.

The ``dockerfile`` binding runs BuildKit's own parser (line continuations, heredocs, JSON form,
parser directives); this module adds what the builder does on top of it for ``FROM``: global
``ARG`` scope, build arguments, quote removal and variable expansion, and stage aliases matched
in any case. Parse errors become :class:`ParseProblem` entries; nothing here raises on bad input.

The binding is a Go library whose runtime starts threads as soon as it loads, and a process
with threads cannot safely fork; so it loads on the first parse, not on import, and
``reprobox lint`` can fork its workers (:mod:`reprobox.lint.parallel`) before anything parses.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, cast

from reprobox.dockerfile.model import (
    Arg,
    Dockerfile,
    ImageRef,
    Instruction,
    ParseProblem,
    Span,
    Stage,
)
from reprobox.dockerfile.words import expand

KNOWN = frozenset(
    {
        "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK",
        "LABEL", "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME",
        "WORKDIR",
    }
)  # fmt: skip
_DIRECTIVE = re.compile(r"^\s*#\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(\S+)\s*$")
_TOKEN = re.compile(r"""(?:[^\s"']|"(?:[^"\\]|\\.)*"?|'[^']*'?)+""")
_ONBUILD_FLAGS = re.compile(r"^\s*onbuild\s+\w+((?:\s+--\S+)*)", re.IGNORECASE)


class _Heredoc(Protocol):
    content: str


class _RawCommand(Protocol):
    """The shape of ``dockerfile.Command`` (the binding ships no type hints)."""

    cmd: str | None
    sub_cmd: str | None
    json: bool
    original: str | None
    start_line: int
    end_line: int
    flags: tuple[str, ...]
    value: tuple[str, ...]
    heredocs: tuple[_Heredoc, ...]


def parse(
    text: str, display_path: str = "Dockerfile", build_args: Mapping[str, str] | None = None
) -> Dockerfile:
    """Parse Dockerfile text; ``build_args`` override ARG defaults as ``--build-arg`` does."""
    import dockerfile as bk  # on first use, not at import (see the module's docstring)

    lines = tuple(text.splitlines())
    try:
        commands = cast(tuple[_RawCommand, ...], bk.parse_string(text))
    except bk.GoParseError as exc:
        problem = ParseProblem(_error_line(text, str(exc)), f"cannot parse: {exc}")
        return Dockerfile(display_path, lines, (), (), {}, (problem,))
    except UnicodeDecodeError as exc:  # the binding mis-slices some multi-byte characters
        problem = ParseProblem(1, f"the parser failed on non-ASCII text: {exc.reason}")
        return Dockerfile(display_path, lines, (), (), {}, (problem,))
    return _Builder(lines, build_args or {}).build(display_path, commands)


def parse_path(
    path: Path, display_path: str | None = None, build_args: Mapping[str, str] | None = None
) -> Dockerfile:
    """Parse the Dockerfile at ``path`` (reading errors propagate as ``OSError``)."""
    text = path.read_text(encoding="utf-8", errors="replace")
    return parse(text, display_path or str(path), build_args)


def _error_line(text: str, message: str) -> int:
    """The first line at which a prefix of ``text`` fails with the same error (bisection).

    The parser's messages carry no line numbers; only files that fail to parse pay for this.
    """
    lines = text.splitlines(keepends=True)
    low, high = 1, max(len(lines), 1)
    while low < high:
        middle = (low + high) // 2
        if _fails_with("".join(lines[:middle]), message):
            high = middle
        else:
            low = middle + 1
    return low


def _fails_with(text: str, message: str) -> bool:
    import dockerfile as bk

    try:
        bk.parse_string(text)
    except bk.GoParseError as exc:
        return str(exc) == message
    except UnicodeDecodeError:
        return False
    return False


def escape_char(lines: tuple[str, ...]) -> str:
    """The escape character set by a ``# escape=`` parser directive (default backslash)."""
    for line in lines:
        match = _DIRECTIVE.match(line)
        if not match:
            break
        if match.group(1).lower() == "escape":
            return match.group(2)
    return "\\"


@dataclass(frozen=True)
class _Token:
    span: Span
    text: str


class _Builder:
    """Walks the parser's commands once, keeping the ARG scope of the stage being read."""

    def __init__(self, lines: tuple[str, ...], build_args: Mapping[str, str]) -> None:
        self.lines = lines
        self.build_args = build_args
        self.escape = escape_char(lines)
        self.global_scope: dict[str, str] = {}
        self.args: list[Arg] = []

    def build(self, display_path: str, commands: tuple[_RawCommand, ...]) -> Dockerfile:
        problems: list[ParseProblem] = []
        instructions: list[Instruction] = []
        stage = -1
        scope = self.global_scope
        for command in commands:
            cmd = (command.cmd or "").upper()
            if cmd == "FROM":
                stage, scope = stage + 1, {}
            elif cmd == "ARG":
                self._declare(command, stage, scope)
            problem = _problem(cmd, stage, command.start_line)
            if problem:
                problems.append(problem)
            instructions.append(_instruction(command, cmd, stage))
        if stage < 0 and not problems:
            problems.append(ParseProblem(1, "no FROM instruction"))
        stages = self._stages(instructions)
        return Dockerfile(
            display_path,
            self.lines,
            tuple(instructions),
            stages,
            dict(self.global_scope),
            tuple(problems),
            tuple(self.args),
        )

    def _declare(self, command: _RawCommand, stage: int, scope: dict[str, str]) -> None:
        tokens = self._tokens(command.start_line, command.end_line)[1:]
        for written in command.value:
            name, sep, raw = str(written).partition("=")
            default = expand(raw, scope, self.escape) if sep else None
            value = self.build_args.get(name, default)
            if value is None and stage >= 0:
                value = self.global_scope.get(name)
            if value is not None:
                scope[name] = value
            span = _value_span(tokens, str(written), len(name) + 1) if sep else None
            self.args.append(Arg(name, default, value, command.start_line, stage, span))

    def _stages(self, instructions: list[Instruction]) -> tuple[Stage, ...]:
        stages: list[Stage] = []
        aliases: dict[str, int] = {}
        for instr in (i for i in instructions if i.cmd == "FROM"):
            stage = self._stage(instr, len(stages), instructions, aliases)
            stages.append(stage)
            if stage.alias:
                aliases[stage.alias] = stage.index
        return tuple(stages)

    def _stage(
        self,
        instr: Instruction,
        index: int,
        instructions: list[Instruction],
        aliases: dict[str, int],
    ) -> Stage:
        written = instr.args[0] if instr.args else ""
        image = ImageRef.parse(expand(written, self.global_scope, self.escape))
        platform = instr.flag("platform")
        return Stage(
            index=index,
            line=instr.line,
            image=image,
            alias=_alias(instr.args),
            parent_stage=aliases.get(image.raw.lower()),
            instructions=tuple(i for i in instructions if i.stage == index and i.cmd != "FROM"),
            written=written,
            span=self._image_span(instr, written),
            platform=expand(platform, self.global_scope, self.escape) if platform else platform,
        )

    def _image_span(self, instr: Instruction, written: str) -> Span | None:
        words = [t for t in self._tokens(instr.line, instr.end_line)[1:] if t.text[:2] != "--"]
        return words[0].span if words and words[0].text == written else None

    def _tokens(self, first: int, last: int) -> list[_Token]:
        """The words written on lines ``first``..``last`` (continuations and comments skipped)."""
        return list(_tokens(self.lines, first, last, self.escape))


def _tokens(lines: tuple[str, ...], first: int, last: int, escape: str) -> Iterator[_Token]:
    for number in range(first, min(last, len(lines)) + 1):
        text = lines[number - 1].rstrip()
        if number > first and text.lstrip().startswith("#"):
            continue
        for match in _TOKEN.finditer(text):
            start, end = match.span()
            if end == len(text) and text.endswith(escape):
                end -= len(escape)
            if end > start:
                yield _Token(Span(number, start, end), text[start:end])


def _value_span(tokens: list[_Token], written: str, offset: int) -> Span | None:
    for token in tokens:
        if token.text == written:
            return Span(token.span.line, token.span.start + offset, token.span.end)
    return None


def _problem(cmd: str, stage: int, line: int) -> ParseProblem | None:
    if cmd not in KNOWN:
        return ParseProblem(line, f"unknown instruction {cmd or '(empty)'}")
    if stage < 0 and cmd != "ARG":
        return ParseProblem(line, f"{cmd} before the first FROM")
    return None


def _instruction(c: _RawCommand, cmd: str, stage: int) -> Instruction:
    return Instruction(
        cmd=cmd,
        line=int(c.start_line),
        end_line=int(c.end_line),
        flags=_onbuild_flags(c) if c.sub_cmd else tuple(c.flags),
        args=tuple(str(v) for v in c.value),
        original=c.original or "",
        json=bool(c.json),
        heredocs=tuple(str(h.content) for h in c.heredocs),
        stage=stage,
        sub_cmd=c.sub_cmd.upper() if c.sub_cmd else None,
    )


def _onbuild_flags(c: _RawCommand) -> tuple[str, ...]:
    """The flags of the instruction inside ``ONBUILD`` (``--mount=...``), which the binding
    drops: the ``--`` words that follow ``ONBUILD RUN``."""
    match = _ONBUILD_FLAGS.match(c.original or "")
    return tuple(match.group(1).split()) if match else ()


def _alias(args: tuple[str, ...]) -> str | None:
    if len(args) >= 3 and args[1].upper() == "AS":
        return args[2].lower()
    return None
