"""RBX2001: the build context has no ``.dockerignore``."""

from __future__ import annotations

from collections.abc import Iterator

from reprobox.dockerfile import Dockerfile
from reprobox.lint.buildcontext import BuildContext
from reprobox.lint.rules.interface import Category, Finding, Rule, RuleMeta, Severity


class NoDockerignore(Rule):
    """The directory the Dockerfile is built from has no ``.dockerignore``."""

    meta = RuleMeta(
        id="RBX2001",
        title="No .dockerignore in the build context",
        category=Category.CONTEXT,
        severity=Severity.WARNING,
        rationale=(
            "Without `.dockerignore` the whole directory goes to the builder: `.git`, "
            "virtualenvs, caches, local `.env` files and runtime state. `COPY . .` then puts "
            "them in the image, makes it bigger, leaks secrets, and busts the layer cache on "
            "every unrelated change."
        ),
        bad="COPY . /app",
        good="COPY . /app",
        bad_files=(("src/app.py", "print('hi')\n"),),
        good_files=(
            ("src/app.py", "print('hi')\n"),
            (".dockerignore", "*\n!src/\n!pyproject.toml\n!requirements.lock\n"),
        ),
        fix="add a .dockerignore; an allow-list (`*` then `!needed`) is the safest",
        exceptions="A context that only holds the Dockerfile.",
    )

    def check(self, dockerfile: Dockerfile, context: BuildContext) -> Iterator[Finding]:
        if context.root is None or context.has_dockerignore:
            return
        if len(context.files) > 1:
            yield self.finding(dockerfile, 1, "the build context has no .dockerignore")
