"""RBX2003: Secrets in the build context."""

from __future__ import annotations

from collections.abc import Iterator

from reprobox.dockerfile import Dockerfile
from reprobox.lint.buildcontext import BuildContext, Kind
from reprobox.lint.rules._entries import entry_findings
from reprobox.lint.rules.interface import Category, Finding, Rule, RuleMeta, Severity

_SECRETS = ((".env", "DB_PASSWORD=hunter2\n"), ("deploy.pem", "-----BEGIN PRIVATE KEY-----\n"))


class SecretsInContext(Rule):
    """Context entries of kind SECRET, grouped by the COPY line that takes them."""

    meta = RuleMeta(
        id="RBX2003",
        title="Secrets in the build context",
        category=Category.CONTEXT,
        severity=Severity.ERROR,
        rationale=(
            "`.env` files, private keys (`*.pem`, `id_rsa`), cloud credentials (`.aws/`, "
            "`credentials.json`, `.netrc`, `.pypirc`) reach the builder, and with `COPY . .` they"
            " are baked into a layer that anyone who pulls the image can read, even if a later "
            "layer deletes them."
        ),
        bad="COPY . /app",
        good="COPY . /app",
        bad_files=_SECRETS,
        good_files=(*_SECRETS, (".dockerignore", ".env\n.env.*\n*.pem\n.aws/\n")),
        fix="exclude them in .dockerignore; pass secrets with RUN --mount=type=secret",
        exceptions="`.env.example`, `.env.sample` and `.env.template` are not flagged.",
    )

    def check(self, dockerfile: Dockerfile, context: BuildContext) -> Iterator[Finding]:
        yield from entry_findings(self, dockerfile, context, Kind.SECRET, "secret-looking file")
