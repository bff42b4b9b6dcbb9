"""RBX3004: ``sudo`` in a ``RUN``."""

from __future__ import annotations

from collections.abc import Iterator

from reprobox.dockerfile import Dockerfile
from reprobox.dockerfile.shell import ShellCommand
from reprobox.lint.buildcontext import BuildContext
from reprobox.lint.rules.interface import Category, Finding, Rule, RuleMeta, Severity


class Sudo(Rule):
    """Commands run through ``sudo``."""

    meta = RuleMeta(
        id="RBX3004",
        title="sudo in a RUN",
        category=Category.SECURITY,
        severity=Severity.WARNING,
        rationale=(
            "Build steps already run as the current `USER`; `sudo` means the image ships a "
            "sudo binary and a sudoers entry that let the runtime user become root again, and "
            "its TTY and signal handling behave badly in containers."
        ),
        bad="USER app\nRUN sudo apt-get install -y --no-install-recommends curl",
        good="USER root\nRUN apt-get install -y --no-install-recommends curl\nUSER app",
        fix="switch USER around the privileged step (or use gosu/setpriv at run time)",
    )

    def check(self, dockerfile: Dockerfile, context: BuildContext) -> Iterator[Finding]:
        for instr in dockerfile.runs:
            if any(_sudo(command) for command in instr.commands):
                yield self.finding(dockerfile, dockerfile.locate(instr, "sudo"), "sudo used")


def _sudo(command: ShellCommand) -> bool:
    for word in command.words:
        if "=" in word and not word.startswith("-"):
            continue
        return word.rsplit("/", 1)[-1] == "sudo"
    return False
