"""RBX4002: the package manager's index or cache is left in the layer."""

from __future__ import annotations

from collections.abc import Iterator

from reprobox.dockerfile import Dockerfile, Instruction
from reprobox.lint.buildcontext import BuildContext
from reprobox.lint.commands import apt_action, mounted
from reprobox.lint.rules.interface import Category, Finding, Rule, RuleMeta, Severity

_NO_CACHE = ("--no-cache", "--no-network")


class PackageCacheLeft(Rule):
    """apt installs must remove ``/var/lib/apt/lists``; ``apk add`` needs ``--no-cache``."""

    meta = RuleMeta(
        id="RBX4002",
        title="apt lists or apk cache left in the layer",
        category=Category.BLOAT,
        severity=Severity.INFO,
        rationale=(
            "`apt-get update` downloads tens of megabytes of package lists. Removing them in "
            "a later RUN does not help: the earlier layer keeps them. They must go in the "
            "same RUN (or live in a cache mount)."
        ),
        bad="RUN apt-get update && apt-get install -y --no-install-recommends curl",
        good="RUN apt-get update && apt-get install -y --no-install-recommends curl \\\n"
        " && rm -rf /var/lib/apt/lists/*",
        fix="end the RUN that runs apt-get update with rm -rf /var/lib/apt/lists/* "
        "(apk: add --no-cache)",
        exceptions="`apt-get dist-clean` (apt 2.7+) also removes the lists; "
        "`apk add --no-network` downloads nothing. A cache or tmpfs mount on "
        "`/var/lib/apt/lists` (or `/var/lib/apt`) keeps the lists out of the layer; one on "
        "`/var/cache/apt` alone does not.",
    )

    def check(self, dockerfile: Dockerfile, context: BuildContext) -> Iterator[Finding]:
        for instr in dockerfile.runs:
            message = _apt(instr) or _apk(instr)
            if message:
                line = dockerfile.locate(instr, "update" if "apt" in message else "add")
                yield self.finding(dockerfile, line, message)


def _apt(instr: Instruction) -> str | None:
    """The lists are written by ``apt-get update``: the RUN that runs it must remove them
    (an install without an update adds no lists to its layer)."""
    if not any(apt_action(c) == "update" for c in instr.commands):
        return None
    if mounted(instr, "/var/lib/apt/lists"):
        return None
    if "/var/lib/apt/lists" in instr.original or "dist-clean" in instr.original:
        return None
    return "apt lists are left in the layer"


def _apk(instr: Instruction) -> str | None:
    for command in instr.commands:
        argv = command.argv
        if command.program != "apk" or "add" not in argv or command.has(*_NO_CACHE):
            continue
        if "/var/cache/apk" not in instr.original and not mounted(instr, "/var/cache/apk"):
            return "apk cache is left in the layer"
    return None
