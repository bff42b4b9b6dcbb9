"""A parsed Dockerfile: stages, instructions with line numbers, resolved ``FROM`` images.

Parsing uses the ``dockerfile`` package (the official BuildKit parser). The model is built once
per file and every rule reads it; nothing here touches the network or runs a command.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Protocol, cast

import dockerfile as bk

from reprobox.lint.shell import ShellCommand, split_commands, split_script

KNOWN = frozenset(
    {
        "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK",
        "LABEL", "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME",
        "WORKDIR",
    }
)  # fmt: skip
_VAR = re.compile(
    r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))"
)


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


@dataclass(frozen=True)
class ImageRef:
    """A ``FROM`` image split into name, tag and digest (``$`` left in when unresolved)."""

    raw: str
    name: str
    tag: str | None
    digest: str | None

    @property
    def resolved(self) -> bool:
        """False when an ARG without a default left a ``$`` in the reference."""
        return "$" not in self.raw

    @classmethod
    def parse(cls, raw: str) -> ImageRef:
        rest, _, digest = raw.partition("@")
        slash = rest.rfind("/")
        colon = rest.rfind(":")
        if colon > slash:
            return cls(raw, rest[:colon], rest[colon + 1 :], digest or None)
        return cls(raw, rest, None, digest or None)


@dataclass(frozen=True)
class Instruction:
    """One instruction with the lines it spans (1-based) and the stage it belongs to."""

    cmd: str
    line: int
    end_line: int
    flags: tuple[str, ...]
    args: tuple[str, ...]
    original: str
    json: bool
    heredocs: tuple[str, ...]
    stage: int
    sub_cmd: str | None = None

    def flag(self, name: str) -> str | None:
        """The value of ``--name=value`` (``""`` for a bare ``--name``), or None."""
        for flag in self.flags:
            key, sep, value = flag.partition("=")
            if key == f"--{name}":
                return value if sep else ""
        return None

    @property
    def pairs(self) -> tuple[tuple[str, str], ...]:
        """For ``ENV``, ``ARG`` and ``LABEL``: the ``(name, value)`` pairs it sets."""
        if self.cmd == "ARG":
            return tuple((n, v) for n, _, v in (a.partition("=") for a in self.args))
        if self.cmd in ("ENV", "LABEL"):
            return tuple(zip(self.args[0::2], self.args[1::2], strict=False))
        return ()

    @cached_property
    def commands(self) -> tuple[ShellCommand, ...]:
        """For ``RUN``: the simple shell commands it runs (heredoc scripts included)."""
        if self.cmd != "RUN":
            return ()
        if self.json:
            return (ShellCommand(self.args),) if self.args else ()
        commands = split_commands(" ".join(self.args))
        if self.heredocs:
            commands = _without_markers(commands)
        for script in self.heredocs:
            commands += split_script(script)
        return commands


def _without_markers(commands: tuple[ShellCommand, ...]) -> tuple[ShellCommand, ...]:
    """Drop heredoc markers (``<<EOF``, ``<<-'EOF'``) from the first line of a RUN."""
    kept = []
    for command in commands:
        words = tuple(w for w in command.words if not w.startswith("<<"))
        if words:
            kept.append(ShellCommand(words, command.piped))
    return tuple(kept)


@dataclass(frozen=True)
class Stage:
    """A build stage: its ``FROM`` line, image (ARG defaults applied) and alias."""

    index: int
    line: int
    image: ImageRef
    alias: str | None
    parent_stage: int | None
    instructions: tuple[Instruction, ...]

    @property
    def is_scratch(self) -> bool:
        return self.image.raw.lower() == "scratch"

    @property
    def pulls_registry_image(self) -> bool:
        """Whether this stage starts from a resolved image of a registry (not ``scratch``,
        not an earlier stage)."""
        return not self.is_scratch and self.parent_stage is None and self.image.resolved


@dataclass(frozen=True)
class ParseProblem:
    """Why (part of) a file could not be parsed, and the line if known."""

    line: int
    message: str


@dataclass(frozen=True)
class Dockerfile:
    """Everything rules need to know about one Dockerfile's text."""

    display_path: str
    lines: tuple[str, ...]
    instructions: tuple[Instruction, ...]
    stages: tuple[Stage, ...]
    global_args: dict[str, str] = field(default_factory=dict)
    problems: tuple[ParseProblem, ...] = ()

    def source_line(self, line: int) -> str:
        """The text of ``line`` (1-based), stripped; empty when out of range."""
        if 1 <= line <= len(self.lines):
            return self.lines[line - 1].strip()
        return ""

    def locate(self, instruction: Instruction, needle: str) -> int:
        """The first line of ``instruction`` whose text contains ``needle`` (else its start)."""
        for number in range(instruction.line, min(instruction.end_line, len(self.lines)) + 1):
            if needle in self.lines[number - 1]:
                return number
        return instruction.line

    @property
    def final_stage(self) -> Stage | None:
        return self.stages[-1] if self.stages else None

    def of(self, *cmds: str) -> tuple[Instruction, ...]:
        """The instructions whose command is one of ``cmds``."""
        return tuple(i for i in self.instructions if i.cmd in cmds)


def substitute(text: str, values: dict[str, str]) -> str:
    """Expand ``$NAME``, ``${NAME}``, ``${NAME:-default}`` and ``${NAME:+alt}`` from ``values``."""

    def expand(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(4)
        op, word = match.group(2), match.group(3) or ""
        value = values.get(name)
        if op in (":-", "-"):
            return value if value else word
        if op in (":+", "+"):
            return word if value else ""
        return value if value is not None else match.group(0)

    return _VAR.sub(expand, text)


def parse(text: str, display_path: str = "Dockerfile") -> Dockerfile:
    """Parse Dockerfile text; parse errors become :class:`ParseProblem` entries, never raise."""
    lines = tuple(text.splitlines())
    try:
        commands = cast(tuple[_RawCommand, ...], bk.parse_string(text))
    except bk.GoParseError as exc:
        problem = ParseProblem(_error_line(text, str(exc)), f"cannot parse: {exc}")
        return Dockerfile(display_path, lines, (), (), {}, (problem,))
    except UnicodeDecodeError as exc:  # the binding mis-slices some multi-byte characters
        problem = ParseProblem(1, f"the parser failed on non-ASCII text: {exc.reason}")
        return Dockerfile(display_path, lines, (), (), {}, (problem,))
    return _build(display_path, lines, commands)


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
    try:
        bk.parse_string(text)
    except bk.GoParseError as exc:
        return str(exc) == message
    except UnicodeDecodeError:
        return False
    return False


def _build(
    display_path: str, lines: tuple[str, ...], commands: tuple[_RawCommand, ...]
) -> Dockerfile:
    global_args: dict[str, str] = {}
    problems: list[ParseProblem] = []
    instructions: list[Instruction] = []
    stage = -1
    for command in commands:
        cmd = (command.cmd or "").upper()
        if cmd == "FROM":
            stage += 1
        elif stage < 0 and cmd == "ARG":
            global_args.update(_arg_defaults(command.value))
        problem = _problem(cmd, stage, command.start_line)
        if problem:
            problems.append(problem)
        instructions.append(_instruction(command, cmd, stage))
    if stage < 0 and not problems:
        problems.append(ParseProblem(1, "no FROM instruction"))
    stages = _stages(instructions, global_args)
    return Dockerfile(
        display_path, lines, tuple(instructions), stages, global_args, tuple(problems)
    )


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
        flags=tuple(c.flags),
        args=tuple(str(v) for v in c.value),
        original=c.original or "",
        json=bool(c.json),
        heredocs=tuple(str(h.content) for h in c.heredocs),
        stage=stage,
        sub_cmd=c.sub_cmd,
    )


def _arg_defaults(values: tuple[str, ...]) -> dict[str, str]:
    result: dict[str, str] = {}
    for value in values:
        name, sep, default = str(value).partition("=")
        if sep:
            result[name] = default.strip("\"'")
    return result


def _stages(instructions: list[Instruction], args: dict[str, str]) -> tuple[Stage, ...]:
    stages: list[Stage] = []
    aliases: dict[str, int] = {}
    for instr in instructions:
        if instr.cmd != "FROM":
            continue
        index = len(stages)
        image = ImageRef.parse(substitute(instr.args[0], args) if instr.args else "")
        alias = _alias(instr.args)
        body = tuple(i for i in instructions if i.stage == index and i.cmd != "FROM")
        stages.append(Stage(index, instr.line, image, alias, aliases.get(image.raw.lower()), body))
        if alias:
            aliases[alias] = index
    return tuple(stages)


def _alias(args: tuple[str, ...]) -> str | None:
    if len(args) >= 3 and args[1].upper() == "AS":
        return args[2].lower()
    return None


def parse_path(path: Path, display_path: str | None = None) -> Dockerfile:
    """Parse the Dockerfile at ``path`` (reading errors propagate as ``OSError``)."""
    text = path.read_text(encoding="utf-8", errors="replace")
    return parse(text, display_path or str(path))
