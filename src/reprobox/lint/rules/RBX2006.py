"""RBX2006: a ``COPY``/``ADD`` source that ``.dockerignore`` excludes."""

from __future__ import annotations

from collections.abc import Iterator

from reprobox.dockerfile import Dockerfile
from reprobox.lint.buildcontext import BuildContext
from reprobox.lint.commands import copy_sources, normalise
from reprobox.lint.rules.interface import Category, Finding, Rule, RuleMeta, Severity

_GLOB = frozenset("*?[")


_LOCK = ("requirements.lock", "flask==3.0.3\n")


class CopyOfExcluded(Rule):
    """Each literal COPY source is checked with the engine's ``.dockerignore`` matching."""

    meta = RuleMeta(
        id="RBX2006",
        title="COPY source excluded by .dockerignore",
        category=Category.CONTEXT,
        severity=Severity.ERROR,
        rationale=(
            "The engine never sends an excluded path, so `COPY` of it fails the build "
            "(`failed to compute cache key: not found`), usually only on the next clean "
            "build, far from the edit that caused it."
        ),
        bad="COPY requirements.lock .",
        good="COPY requirements.lock .",
        bad_files=(_LOCK, (".dockerignore", "*.lock\n")),
        good_files=(_LOCK, (".dockerignore", "*.lock\n!requirements.lock\n")),
        fix="re-include the path in .dockerignore (!path) or stop copying it",
        exceptions="Sources with wildcards or variables are not checked.",
    )

    def check(self, dockerfile: Dockerfile, context: BuildContext) -> Iterator[Finding]:
        if context.root is None or not context.has_dockerignore:
            return
        for instr in dockerfile.of("COPY", "ADD"):
            for source in copy_sources(instr):
                path = normalise(source)
                if path and not _GLOB & set(path) and context.excluded(path):
                    line = dockerfile.locate(instr, source)
                    yield self.finding(dockerfile, line, f"{source} is excluded by .dockerignore")
