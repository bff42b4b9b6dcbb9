"""Console sessions in the docs: parse them, run them in bash, compare what they print.

Pure logic (no engine), unit-tested in ``test_console.py``; the convention it implements is
written in ``docs/README.md`` and at the top of ``test_docs.py``.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

PROMPT = "$ "
ELLIPSIS = "..."
SKIP_MARK = re.compile(r"#\s*not run by the docs tests:\s*(?P<reason>.+?)\s*$")
_HEREDOC = re.compile(r"<<-?\s*(['\"]?)(?P<word>[A-Za-z_][A-Za-z0-9_]*)\1")
_MARK = "@@reprobox-docs-exit@@"


@dataclass(frozen=True)
class Command:
    """One ``$ `` command (continuation and heredoc lines included) and what it prints."""

    source: str
    expected: str
    line: int  # 0-based offset of the ``$`` line inside the block

    @property
    def shows_exit_code(self) -> bool:
        return self.source.strip() == "echo $?"


@dataclass(frozen=True)
class ConsoleBlock:
    commands: tuple[Command, ...]
    skip_reason: str | None = None


@dataclass(frozen=True)
class Outcome:
    output: str
    exit_code: int


def _continues(line: str, heredoc: str | None) -> bool:
    if heredoc is not None:
        return True
    return line.endswith("\\")


def _read_command(lines: list[str], start: int) -> tuple[list[str], int]:
    """The lines of the command starting at ``start`` and the index after it."""
    first = lines[start][len(PROMPT) :]
    taken = [first]
    match = _HEREDOC.search(first)
    heredoc = match.group("word") if match else None
    i = start + 1
    current = first
    while i < len(lines) and _continues(current, heredoc):
        current = lines[i]
        taken.append(current)
        i += 1
        if heredoc is not None and current.strip() == heredoc:
            heredoc = None
            current = ""
    return taken, i


def parse(source: str) -> ConsoleBlock:
    """Split a ``console`` block into commands and their expected output."""
    lines = source.rstrip("\n").split("\n")
    commands: list[Command] = []
    skip: str | None = None
    i = 0
    while i < len(lines) and not lines[i].startswith(PROMPT):
        i += 1  # text before the first prompt is not allowed to hide anything
    if i:
        raise ValueError(f"console block: line 1 must start with {PROMPT!r}: {lines[0]!r}")
    while i < len(lines):
        taken, i = _read_command(lines, i)
        start = i
        while i < len(lines) and not lines[i].startswith(PROMPT):
            i += 1
        mark = SKIP_MARK.search(taken[0])
        if mark and skip is None:
            skip = mark.group("reason")
        commands.append(
            Command("\n".join(taken), "\n".join(lines[start:i]), line=start - len(taken))
        )
    return ConsoleBlock(tuple(commands), skip)


def _pattern(expected: str) -> re.Pattern[str]:
    parts: list[str] = []
    for line in _normal_lines(expected):
        if line.strip() == ELLIPSIS:
            parts.append(r"(?:[^\n]*\n)*?")
        else:
            chunks = (re.escape(chunk) for chunk in line.split(ELLIPSIS))
            parts.append("[^\n]*".join(chunks) + r"\n")
    return re.compile("".join(parts))


def _normal_lines(text: str) -> list[str]:
    stripped = [line.rstrip() for line in text.rstrip().split("\n")]
    return [] if stripped == [""] else stripped


def matches(expected: str, actual: str) -> bool:
    """Whether ``actual`` output fits ``expected``, ``...`` being the only placeholder."""
    lines = _normal_lines(actual)
    text = "".join(line + "\n" for line in lines)
    return _pattern(expected).fullmatch(text) is not None


def script(block: ConsoleBlock) -> str:
    """One bash script running every command, printing a marker with each exit code."""
    out = ["exec 2>&1 </dev/null"]
    for command in block.commands:
        out.append(command.source)
        out.append(f'__rc=$?; printf \'\\n{_MARK} %d\\n\' "$__rc"; (exit "$__rc")')
    return "\n".join(out) + "\n"


def split_output(text: str) -> list[Outcome]:
    """The output of :func:`script`, cut back into one outcome per command."""
    outcomes: list[Outcome] = []
    pattern = re.compile(rf"\n{re.escape(_MARK)} (\d+)\n")
    pos = 0
    for match in pattern.finditer(text):
        outcomes.append(Outcome(text[pos : match.start()], int(match.group(1))))
        pos = match.end()
    return outcomes


def run_block(block: ConsoleBlock, cwd: Path, env: dict[str, str], timeout: float) -> list[Outcome]:
    done = subprocess.run(
        ["bash", "-c", script(block)],
        cwd=cwd,
        env=env,
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    return split_output(done.stdout.decode("utf-8", "replace"))


def check(block: ConsoleBlock, outcomes: list[Outcome]) -> str | None:
    """None when every command printed what the block says and exited as it says.

    A command must exit 0 unless the next command is ``echo $?``, which shows its code.
    """
    if len(outcomes) != len(block.commands):
        return f"only {len(outcomes)} of {len(block.commands)} commands ran"
    for i, (command, outcome) in enumerate(zip(block.commands, outcomes, strict=True)):
        shown = i + 1 < len(block.commands) and block.commands[i + 1].shows_exit_code
        if outcome.exit_code != 0 and not shown:
            return (
                f"$ {command.source}\nexited {outcome.exit_code} (show a non-zero exit code "
                f"with a following `$ echo $?`)\noutput:\n{outcome.output}"
            )
        if not matches(command.expected, outcome.output):
            return f"$ {command.source}\nexpected:\n{command.expected}\ngot:\n{outcome.output}"
    return None


@dataclass
class Renamer:
    """Gives the images and volumes a docs example creates unique names, and back.

    Images: the value of ``-t``/``--tag`` (anything without a ``/``), plus any name given
    up front; such a name is renamed as a ``--tag``/``--image``/``-t`` value and as a whole
    argument of ``docker run|create|rmi|inspect|history|save|image ...``. Volumes: the NAME of
    ``-v NAME:/path`` and ``--volume NAME:/path``, renamed wherever it is a whole word.
    """

    suffix: str
    images: dict[str, str] = field(default_factory=dict)
    volumes: dict[str, str] = field(default_factory=dict)

    def image(self, name: str) -> str:
        return self.images.setdefault(name, f"{name}-docs-{self.suffix}")

    def volume(self, name: str) -> str:
        return self.volumes.setdefault(name, f"{name}-docs-{self.suffix}")

    def _learn(self, source: str) -> None:
        for match in re.finditer(r"(?:^|\s)(?:-t|--tag)[ =]([A-Za-z0-9._-]+)", source):
            self.image(match.group(1))
        for match in re.finditer(r"(?:^|\s)(?:-v|--volume)[ =]([A-Za-z0-9][\w.-]*):/", source):
            self.volume(match.group(1))

    def command(self, source: str) -> str:
        self._learn(source)
        for name, unique in self.volumes.items():
            source = re.sub(rf"(?<![\w./-]){re.escape(name)}(?![\w-])", unique, source)
        for name, unique in self.images.items():
            source = self._rename_image(source, name, unique)
        return source

    @staticmethod
    def _rename_image(source: str, name: str, unique: str) -> str:
        word = rf"{re.escape(name)}(?=[:\s]|$)"
        source = re.sub(rf"((?:^|\s)(?:-t|--tag|--image)[ =]){word}", rf"\g<1>{unique}", source)
        if re.match(r"\s*docker\s+(run|create|rmi|inspect|history|save|image)\b", source):
            source = re.sub(rf"(?<=\s){word}", unique, source)
        return source

    def python(self, source: str) -> str:
        """Python examples: a known image named as ``Sandbox(...)``'s or ``image=`` value."""
        for name, unique in self.images.items():
            quoted = rf"([\"']){re.escape(name)}([:\"'])"
            source = re.sub(
                rf"((?:Sandbox|SandboxPool)\(|image=){quoted}", rf"\g<1>\g<2>{unique}\g<3>", source
            )
        for name, unique in self.volumes.items():
            source = re.sub(rf"([\"']){re.escape(name)}([:\"'])", rf"\g<1>{unique}\g<2>", source)
        return source

    def restore(self, output: str) -> str:
        """Unique names in output read as the names the docs wrote."""
        for name, unique in {**self.images, **self.volumes}.items():
            output = output.replace(unique, name)
        return output
