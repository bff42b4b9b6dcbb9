"""RBX1108: ``apt-get update`` in a RUN of its own."""

from __future__ import annotations

from collections.abc import Iterator

from reprobox.dockerfile import Dockerfile
from reprobox.lint.buildcontext import BuildContext
from reprobox.lint.commands import apt_action
from reprobox.lint.rules.interface import Category, Finding, Rule, RuleMeta, Severity


class LoneAptUpdate(Rule):
    """A ``RUN`` that updates the package index but installs nothing."""

    meta = RuleMeta(
        id="RBX1108",
        title="apt-get update in a layer of its own",
        category=Category.REPRODUCIBILITY,
        severity=Severity.WARNING,
        rationale=(
            "The layer cache keeps `RUN apt-get update` for months, so a later "
            "`RUN apt-get install` reads a stale index: it installs old versions or fails "
            "with 404s, depending on when the cache was made. Update and install belong in "
            "one RUN."
        ),
        bad="RUN apt-get update\nRUN apt-get install -y --no-install-recommends curl",
        good="RUN apt-get update \\\n && apt-get install -y --no-install-recommends curl \\\n"
        " && rm -rf /var/lib/apt/lists/*",
        fix="run apt-get update && apt-get install in the same RUN",
    )

    def check(self, dockerfile: Dockerfile, context: BuildContext) -> Iterator[Finding]:
        for instr in dockerfile.runs:
            actions = {apt_action(c) for c in instr.commands} - {None}
            if "update" in actions and not actions & {"install", "upgrade", "dist-upgrade"}:
                yield self.finding(dockerfile, instr.line, "apt-get update without an install")
