"""RBX2005: files that ``.gitignore`` ignores reach the build context."""

from __future__ import annotations

from collections.abc import Iterator

from reprobox.dockerfile import Dockerfile
from reprobox.lint.buildcontext import BuildContext, Kind
from reprobox.lint.rules._entries import entry_findings
from reprobox.lint.rules.interface import Category, Finding, Rule, RuleMeta, Severity

_FILES = ((".gitignore", "tasks.json\n"), ("tasks.json", "[]\n"))


class GitignoredInContext(Rule):
    """Files git ignores (every ``.gitignore`` from the repository's top down into the context,
    and ``.git/info/exclude``) that ``.dockerignore`` does not exclude."""

    meta = RuleMeta(
        id="RBX2005",
        title="Files that .gitignore ignores are in the build context",
        category=Category.CONTEXT,
        severity=Severity.WARNING,
        rationale=(
            "What git ignores is local: runtime state (`tasks.json`, `*.sqlite`), build "
            "output, editor files. A clean checkout in CI does not have it, so an image built "
            "on a laptop differs from one built in CI, and may carry someone's data."
        ),
        bad="COPY . /app",
        good="COPY . /app",
        bad_files=(*_FILES, (".dockerignore", ".git\n")),
        good_files=(*_FILES, (".dockerignore", ".git\ntasks.json\n")),
        fix="exclude the same paths in .dockerignore (or use an allow-list)",
        exceptions="git's rules are applied exactly (pathspec's GitIgnoreSpec), from the "
        "`.gitignore` files on disk; a global `core.excludesFile` is not read, as it differs "
        "per machine.",
    )

    def check(self, dockerfile: Dockerfile, context: BuildContext) -> Iterator[Finding]:
        yield from entry_findings(self, dockerfile, context, Kind.GITIGNORED, "git-ignored file")
