"""RBX2007: ``COPY .`` comes before the dependencies are installed."""

from __future__ import annotations

from collections.abc import Iterator

from reprobox.dockerfile import Dockerfile, Instruction
from reprobox.dockerfile.shell import ShellCommand
from reprobox.lint.buildcontext import BuildContext
from reprobox.lint.commands import copy_sources, normalise, pip_install
from reprobox.lint.rules.interface import Category, Finding, Rule, RuleMeta, Severity

_INSTALLERS = {
    "uv": ("sync",),
    "poetry": ("install",),
    "pipenv": ("install",),
    "npm": ("ci", "install", "i"),
    "yarn": ("install",),
    "bundle": ("install",),
    "go": ("mod",),
}


class CopyAllBeforeInstall(Rule):
    """Per stage: the first ``COPY .`` followed by a dependency install, with none before it."""

    meta = RuleMeta(
        id="RBX2007",
        title="COPY . before the dependencies are installed",
        category=Category.CONTEXT,
        severity=Severity.WARNING,
        rationale=(
            "Layers are cached until an input changes. When the whole source tree is copied "
            "before `pip install`, any edit to any file invalidates the install layer and "
            "every build downloads and installs all dependencies again (with whatever "
            "versions the index serves that day, if they are not locked)."
        ),
        bad="COPY . /app\nRUN pip install -r /app/requirements.lock",
        good="COPY requirements.lock /app/\nRUN pip install --require-hashes -r "
        "/app/requirements.lock\nCOPY . /app",
        fix="copy only the manifest/lock files first, install, then COPY the rest",
    )

    def check(self, dockerfile: Dockerfile, context: BuildContext) -> Iterator[Finding]:
        for stage in dockerfile.stages:
            copy = _first_copy_all(stage.instructions)
            if copy is None or _installs_before(stage.instructions, copy.line):
                continue
            later = [i for i in stage.instructions if i.line > copy.line and _installs(i)]
            if later:
                message = f"COPY . invalidates the install at line {later[0].line} on every edit"
                yield self.finding(dockerfile, copy.line, message)


def _first_copy_all(body: tuple[Instruction, ...]) -> Instruction | None:
    for instr in body:
        if instr.cmd in ("COPY", "ADD") and any(normalise(s) == "" for s in copy_sources(instr)):
            return instr
    return None


def _installs_before(body: tuple[Instruction, ...], line: int) -> bool:
    return any(_installs(i) for i in body if i.line < line)


def _installs(instr: Instruction) -> bool:
    return instr.cmd == "RUN" and any(_is_install(c) for c in instr.commands)


def _is_install(command: ShellCommand) -> bool:
    install = pip_install(command)
    if install is not None:
        return bool(install.requirement_files) or "--no-deps" not in install.options
    verbs = _INSTALLERS.get(command.program)
    argv = command.argv
    return verbs is not None and len(argv) > 1 and argv[1] in verbs
