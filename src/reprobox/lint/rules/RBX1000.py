"""RBX1000: the Dockerfile (or its .dockerignore) cannot be parsed."""

from __future__ import annotations

from collections.abc import Iterator

from reprobox.dockerfile import Dockerfile
from reprobox.lint.buildcontext import BuildContext
from reprobox.lint.rules.interface import Category, Finding, Rule, RuleMeta, Severity


class ParseError(Rule):
    """Reports the parser's problems: syntax errors, unknown instructions, no ``FROM``."""

    meta = RuleMeta(
        id="RBX1000",
        title="Dockerfile or .dockerignore cannot be parsed",
        category=Category.PARSE,
        severity=Severity.ERROR,
        rationale=(
            "The BuildKit parser rejects the file, or accepts it but the build would stop at "
            "an unknown instruction or a missing `FROM`. Nothing else about the file can be "
            "trusted until it parses. A `.dockerignore` pattern the engine cannot compile is "
            "reported here too."
        ),
        bad="FROM python:3.12-slim\nRUN <<EOF\necho never closed",
        good="FROM python:3.12-slim\nRUN <<EOF\necho closed\nEOF",
        fix="fix the syntax at this line (see the parser's message)",
    )

    def check(self, dockerfile: Dockerfile, context: BuildContext) -> Iterator[Finding]:
        for problem in dockerfile.problems:
            yield self.finding(dockerfile, problem.line, problem.message)
        for message in context.problems:
            yield self.finding(dockerfile, 1, f".dockerignore: {message}")
