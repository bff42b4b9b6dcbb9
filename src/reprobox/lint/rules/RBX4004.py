"""RBX4004: compilers or build tools installed in the final stage."""

from __future__ import annotations

from collections.abc import Iterator

from reprobox.dockerfile import Dockerfile, Instruction
from reprobox.lint.buildcontext import BuildContext
from reprobox.lint.commands import installs_packages
from reprobox.lint.rules.interface import Category, Finding, Rule, RuleMeta, Severity

_TOOLS = frozenset(
    {
        "gcc", "g++", "cc", "clang", "make", "cmake", "build-essential", "gcc-c++", "musl-dev",
        "libc6-dev", "libc-dev", "autoconf", "automake", "libtool", "gfortran", "rustc", "cargo",
        "golang", "go", "ninja-build", "meson", "alpine-sdk", "base-devel", "python3-dev",
    }
)  # fmt: skip
_CLEANUP = ("purge", "autoremove", "del", "remove", "erase")


class BuildToolsInFinalStage(Rule):
    """Only the final stage matters; a RUN that removes the tools again is accepted."""

    meta = RuleMeta(
        id="RBX4004",
        title="Compilers or build tools in the final stage",
        category=Category.BLOAT,
        severity=Severity.WARNING,
        rationale=(
            "A compiler in the runtime image adds hundreds of megabytes and hands an attacker "
            "a toolchain. Build in a builder stage and `COPY --from` only the result."
        ),
        bad="FROM python:3.12-slim\nRUN apt-get update && apt-get install -y "
        "--no-install-recommends gcc && rm -rf /var/lib/apt/lists/*\nRUN pip wheel ...",
        good="FROM python:3.12-slim AS build\nRUN apt-get update && apt-get install -y "
        "--no-install-recommends gcc\nRUN pip wheel --wheel-dir /wheels ...\n\n"
        "FROM python:3.12-slim\nCOPY --from=build /wheels /wheels",
        fix="use a multi-stage build: compile in a builder stage, COPY --from the artefacts",
        exceptions="A RUN that installs and purges the tools in the same layer "
        "(apt-get purge, apk del) is accepted.",
    )

    def check(self, dockerfile: Dockerfile, context: BuildContext) -> Iterator[Finding]:
        final = dockerfile.final_stage
        for instr in final.instructions if final else ():
            if instr.cmd != "RUN" or _cleans_up(instr):
                continue
            tools = sorted({p for c in instr.commands for p in installs_packages(c)} & _TOOLS)
            if tools:
                line = dockerfile.locate(instr, tools[0])
                yield self.finding(
                    dockerfile, line, f"build tools in the final image: {', '.join(tools)}"
                )


def _cleans_up(instr: Instruction) -> bool:
    return any(
        c.program in ("apt-get", "apt", "apk", "yum", "dnf") and set(c.argv[1:]) & set(_CLEANUP)
        for c in instr.commands
    )
