"""The parsed Dockerfile: what :func:`reprobox.dockerfile.parse` returns (see the package)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from reprobox.dockerfile.shell import ShellCommand, split_commands, split_script


@dataclass(frozen=True)
class Span:
    """Where a word is written: ``lines[line - 1][start:end]`` (line 1-based, columns 0-based)."""

    line: int
    start: int
    end: int


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

    @property
    def runs_shell(self) -> bool:
        """True for ``RUN`` and ``ONBUILD RUN`` (which runs in every image built on this one)."""
        return self.cmd == "RUN" or (self.cmd == "ONBUILD" and self.sub_cmd == "RUN")

    @cached_property
    def commands(self) -> tuple[ShellCommand, ...]:
        """For ``RUN`` and ``ONBUILD RUN``: the simple shell commands it runs (heredoc scripts
        included)."""
        if not self.runs_shell:
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
class Arg:
    """One name of an ``ARG`` instruction.

    ``default`` is the value written after ``=`` with quotes removed and earlier ARGs expanded
    (None without ``=``); ``value`` is what the build uses: a build argument, else the default,
    else (a bare ``ARG NAME`` in a stage) the global ARG's value; None when it has none.
    ``span`` is where the default is written, quotes included (None without ``=``).
    """

    name: str
    default: str | None
    value: str | None
    line: int
    stage: int
    span: Span | None


@dataclass(frozen=True)
class Stage:
    """A build stage: its ``FROM`` line, image (global ARGs applied) and lower-cased alias.

    ``written`` is the image as the file spells it (``${BASE}``), ``span`` where it is written;
    ``parent_stage`` is the index of the earlier stage it builds on (aliases match in any case).
    """

    index: int
    line: int
    image: ImageRef
    alias: str | None
    parent_stage: int | None
    instructions: tuple[Instruction, ...]
    written: str = ""
    span: Span | None = None
    platform: str | None = None

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
    args: tuple[Arg, ...] = ()

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

    @property
    def runs(self) -> tuple[Instruction, ...]:
        """The ``RUN`` and ``ONBUILD RUN`` instructions."""
        return tuple(i for i in self.instructions if i.runs_shell)

    def root(self, stage: Stage) -> Stage:
        """The stage ``stage`` ultimately builds on (following ``FROM <earlier stage>``)."""
        while stage.parent_stage is not None:
            stage = self.stages[stage.parent_stage]
        return stage

    @property
    def base_stages(self) -> tuple[Stage, ...]:
        """The stages that start from an image (not ``scratch``, not an earlier stage)."""
        return tuple(s for s in self.stages if s.parent_stage is None and not s.is_scratch)
