"""RBX3002: a secret-looking name in ``ENV`` or ``ARG``."""

from __future__ import annotations

import re
from collections.abc import Iterator

from reprobox.dockerfile import Dockerfile
from reprobox.lint.buildcontext import BuildContext
from reprobox.lint.rules.interface import Category, Finding, Rule, RuleMeta, Severity

_SECRET = re.compile(
    r"(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL|_PASS$|^PASS$)",
    re.IGNORECASE,
)
_HARMLESS = re.compile(r"(_FILE|_PATH|_DIR|_URL|_ID|_NAME|_LENGTH|_TTL|_EXPIRY)$|^GPG_KEY", re.I)


class SecretInEnvOrArg(Rule):
    """Names such as ``DB_PASSWORD``, ``API_TOKEN``, ``AWS_SECRET_ACCESS_KEY``."""

    meta = RuleMeta(
        id="RBX3002",
        title="Secret-looking name in ENV or ARG",
        category=Category.SECURITY,
        severity=Severity.WARNING,
        rationale=(
            "`ENV` values are stored in the image config and `ARG` values in its history: "
            "`docker history` and `docker inspect` show them to anyone who can pull the "
            "image. Secrets belong in build secrets (`RUN --mount=type=secret`) at build "
            "time and in the runtime environment at run time."
        ),
        bad="ARG PYPI_TOKEN\nENV DB_PASSWORD=hunter2",
        good="RUN --mount=type=secret,id=pypi_token \\\n    "
        "PIP_INDEX_URL=https://__token__:$(cat /run/secrets/pypi_token)@example.org/simple "
        "pip install ...",
        fix="use RUN --mount=type=secret at build time; pass secrets at run time",
        exceptions="Names ending in _FILE, _PATH, _URL, _ID or _NAME point at a secret and "
        "are not flagged; so is GPG_KEY (a public key fingerprint).",
    )

    def check(self, dockerfile: Dockerfile, context: BuildContext) -> Iterator[Finding]:
        for instr in dockerfile.of("ENV", "ARG"):
            for name, _ in instr.pairs:
                if _SECRET.search(name) and not _HARMLESS.search(name):
                    line = dockerfile.locate(instr, name)
                    yield self.finding(dockerfile, line, f"{instr.cmd} {name} is kept in the image")
