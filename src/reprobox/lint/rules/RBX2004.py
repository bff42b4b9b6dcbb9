"""RBX2004: Virtualenvs, dependency folders or caches in the build context."""

from __future__ import annotations

from collections.abc import Iterator

from reprobox.dockerfile import Dockerfile
from reprobox.lint.buildcontext import BuildContext, Kind
from reprobox.lint.rules._entries import entry_findings
from reprobox.lint.rules.interface import Category, Finding, Rule, RuleMeta, Severity

_VENV = ((".venv/pyvenv.cfg", "home = /usr/bin\n"),)


class EnvsAndCachesInContext(Rule):
    """Context entries of kind VENV and CACHE, grouped by the COPY line that takes them."""

    meta = RuleMeta(
        id="RBX2004",
        title="Virtualenvs, dependency folders or caches in the build context",
        category=Category.CONTEXT,
        severity=Severity.WARNING,
        rationale=(
            "A local `.venv` or `node_modules` holds binaries built for the host, not the image, "
            "and is often hundreds of megabytes, and caches (`__pycache__`, `.pytest_cache`, "
            "`*.pyc`) change on every run; copying it makes the image big and non-reproducible "
            "(it depends on what the developer happened to install)."
        ),
        bad="COPY . /app",
        good="COPY . /app",
        bad_files=_VENV,
        good_files=(
            *_VENV,
            (".dockerignore", ".venv/\nnode_modules/\n**/__pycache__/\n.*_cache/\n"),
        ),
        fix="exclude them in .dockerignore and install dependencies inside the build",
        exceptions="None.",
    )

    def check(self, dockerfile: Dockerfile, context: BuildContext) -> Iterator[Finding]:
        yield from entry_findings(
            self, dockerfile, context, Kind.VENV, "virtualenv or dependency folder"
        )
        yield from entry_findings(self, dockerfile, context, Kind.CACHE, "cache or build output")
