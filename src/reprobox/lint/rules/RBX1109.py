"""RBX1109: Python bytecode compiled without ``SOURCE_DATE_EPOCH``."""

from __future__ import annotations

from collections.abc import Iterator

from reprobox.dockerfile import Dockerfile, Instruction
from reprobox.dockerfile.shell import ShellCommand
from reprobox.lint.buildcontext import BuildContext
from reprobox.lint.commands import inherited_env, pip_install
from reprobox.lint.rules.interface import Category, Finding, Rule, RuleMeta, Severity

_MODULES = ("compileall", "py_compile")


class BytecodeWithoutEpoch(Rule):
    """``python -m compileall``, ``py_compile`` or ``pip install --compile`` with timestamps."""

    meta = RuleMeta(
        id="RBX1109",
        title="Python bytecode compiled without SOURCE_DATE_EPOCH",
        category=Category.REPRODUCIBILITY,
        severity=Severity.WARNING,
        rationale=(
            "Timestamp-based `.pyc` files embed the source file's mtime, so every build "
            "produces different bytes. With `SOURCE_DATE_EPOCH` set, Python writes "
            "hash-based `.pyc` files instead, and the layer is byte-for-byte repeatable."
        ),
        bad="RUN python -m compileall /app",
        good="ENV SOURCE_DATE_EPOCH=0\nRUN python -m compileall /app",
        fix="set ENV SOURCE_DATE_EPOCH (or ARG) before compiling, or pass "
        "--invalidation-mode checked-hash",
        exceptions="Plain `pip install` also writes .pyc files; this rule only flags explicit "
        "compilation, where the intent is clear.",
    )

    def check(self, dockerfile: Dockerfile, context: BuildContext) -> Iterator[Finding]:
        for stage in dockerfile.stages:
            for instr in stage.instructions:
                if instr.cmd != "RUN" or not any(_compiles(c) for c in instr.commands):
                    continue
                if not _has_epoch(dockerfile, instr):
                    line = dockerfile.locate(instr, "compil")
                    yield self.finding(dockerfile, line, "bytecode embeds build timestamps")


def _compiles(command: ShellCommand) -> bool:
    argv = command.argv
    if command.has("--invalidation-mode"):
        return False
    if argv[:1] and argv[0].startswith("python") and argv[1:2] == ("-m",):
        return argv[2:3] in (("compileall",), ("py_compile",))
    install = pip_install(command)
    return install is not None and install.has("--compile")


def _has_epoch(dockerfile: Dockerfile, instr: Instruction) -> bool:
    if "SOURCE_DATE_EPOCH" in inherited_env(dockerfile, instr, dockerfile.global_args):
        return True
    return any(w.startswith("SOURCE_DATE_EPOCH=") for c in instr.commands for w in c.words)
