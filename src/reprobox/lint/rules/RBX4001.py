"""RBX4001: ``apt-get install`` without ``--no-install-recommends``."""

from __future__ import annotations

from collections.abc import Iterator

from reprobox.dockerfile import Dockerfile
from reprobox.dockerfile.shell import ShellCommand
from reprobox.lint.buildcontext import BuildContext
from reprobox.lint.commands import apt_action
from reprobox.lint.rules.interface import Category, Finding, Rule, RuleMeta, Severity


class InstallRecommends(Rule):
    """Each apt install must say ``--no-install-recommends`` (or set the apt option)."""

    meta = RuleMeta(
        id="RBX4001",
        title="apt-get install without --no-install-recommends",
        category=Category.BLOAT,
        severity=Severity.INFO,
        rationale=(
            "apt installs 'recommended' packages by default: documentation, X11 libraries, "
            "whole toolchains nobody asked for. They make the image larger and add packages "
            "to patch."
        ),
        bad="RUN apt-get update && apt-get install -y curl",
        good="RUN apt-get update && apt-get install -y --no-install-recommends curl",
        fix="add --no-install-recommends",
        exceptions='An image that sets APT::Install-Recommends "false" in apt.conf.d.',
    )

    def check(self, dockerfile: Dockerfile, context: BuildContext) -> Iterator[Finding]:
        for instr in dockerfile.runs:
            for command in instr.commands:
                if apt_action(command) == "install" and not _no_recommends(command):
                    line = dockerfile.locate(instr, "install")
                    yield self.finding(dockerfile, line, "recommended packages installed too")


def _no_recommends(command: ShellCommand) -> bool:
    if command.has("--no-install-recommends"):
        return True
    return any("install-recommends" in w.lower() and "false" in w.lower() for w in command.words)
