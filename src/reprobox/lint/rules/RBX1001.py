"""RBX1001: a rule failed unexpectedly (reported by the runner, never a traceback)."""

from __future__ import annotations

from collections.abc import Iterator

from reprobox.dockerfile import Dockerfile
from reprobox.lint.buildcontext import BuildContext
from reprobox.lint.rules.interface import Category, Finding, Rule, RuleMeta, Severity


class InternalError(Rule):
    """Metadata only: the runner emits this finding when another rule raises."""

    meta = RuleMeta(
        id="RBX1001",
        title="A lint rule failed on this file (internal error)",
        category=Category.PARSE,
        severity=Severity.ERROR,
        rationale=(
            "A rule raised an unexpected exception on this input. reprobox reports it as a "
            "finding instead of crashing, so the other rules' findings still reach you. "
            "It is a bug in reprobox: please report it with the Dockerfile."
        ),
        bad="(any input that makes a rule fail)",
        good="(the same input after the bug is fixed)",
        fix="report the bug with this Dockerfile; silence the named rule with --ignore meanwhile",
        exceptions="None: this is always a reprobox bug.",
    )

    def check(self, dockerfile: Dockerfile, context: BuildContext) -> Iterator[Finding]:
        return iter(())
