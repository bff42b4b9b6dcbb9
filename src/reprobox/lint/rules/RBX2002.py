"""RBX2002: .git directory in the build context."""

from __future__ import annotations

from collections.abc import Iterator

from reprobox.dockerfile import Dockerfile
from reprobox.lint.buildcontext import BuildContext, Kind
from reprobox.lint.rules._entries import entry_findings
from reprobox.lint.rules.interface import Category, Finding, Rule, RuleMeta, Severity


class GitInContext(Rule):
    """Context entries of kind GIT, grouped by the COPY line that takes them."""

    meta = RuleMeta(
        id="RBX2002",
        title=".git directory in the build context",
        category=Category.CONTEXT,
        severity=Severity.WARNING,
        rationale=(
            "The whole repository history goes to the builder, and with `COPY . .` into the "
            "image: old secrets that were deleted in a later commit, and a layer that changes on "
            "every commit even when no file the image needs did."
        ),
        bad="COPY . /app",
        good="COPY . /app",
        good_files=((".dockerignore", ".git\n"),),
        fix="add .git to .dockerignore",
        exceptions="None.",
    )

    def check(self, dockerfile: Dockerfile, context: BuildContext) -> Iterator[Finding]:
        yield from entry_findings(self, dockerfile, context, Kind.GIT, "the git history")
