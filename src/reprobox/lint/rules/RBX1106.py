"""RBX1106: ``ADD <url>`` without ``--checksum``."""

from __future__ import annotations

from collections.abc import Iterator

from reprobox.dockerfile import Dockerfile
from reprobox.lint.buildcontext import BuildContext
from reprobox.lint.rules.interface import Category, Finding, Rule, RuleMeta, Severity

_REMOTE = ("http://", "https://", "git@", "git://")


class AddUrlWithoutChecksum(Rule):
    """Each remote ``ADD`` source needs ``--checksum=sha256:...`` (reprobox never fetches it)."""

    meta = RuleMeta(
        id="RBX1106",
        title="ADD of a URL without --checksum",
        category=Category.REPRODUCIBILITY,
        severity=Severity.WARNING,
        rationale=(
            "`ADD https://...` downloads whatever the server returns at build time. Without "
            "`--checksum` a changed or compromised file goes into the image unnoticed."
        ),
        bad="ADD https://example.org/tool.tar.gz /opt/",
        good="ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2015d0"
        "d50e2e3c5b https://example.org/tool.tar.gz /opt/",
        fix="add --checksum=sha256:<digest> (ADD --checksum needs Dockerfile syntax 1.6+)",
        exceptions="Git sources are pinned by commit in the URL fragment instead.",
    )

    def check(self, dockerfile: Dockerfile, context: BuildContext) -> Iterator[Finding]:
        for instr in dockerfile.of("ADD"):
            if instr.flag("checksum") or instr.flag("from") is not None:
                continue
            for source in instr.args[:-1]:
                if source.startswith(_REMOTE) and "#" not in source:
                    line = dockerfile.locate(instr, source)
                    yield self.finding(dockerfile, line, f"{source} is not checked")
