"""RBX1103: ``pip install`` of packages without an exact version."""

from __future__ import annotations

from collections.abc import Iterator

from reprobox.dockerfile import Dockerfile
from reprobox.lint.buildcontext import BuildContext
from reprobox.lint.commands import is_local, is_pinned, pip_install
from reprobox.lint.rules.interface import Category, Finding, Rule, RuleMeta, Severity


class UnpinnedPip(Rule):
    """Each named requirement of ``pip install`` must be ``name==version``."""

    meta = RuleMeta(
        id="RBX1103",
        title="pip installs a package without an exact version",
        category=Category.REPRODUCIBILITY,
        severity=Severity.WARNING,
        rationale=(
            "`pip install flask` or `flask>=3` installs whatever is newest on the day of the "
            "build, with whatever its dependencies are that day. Two builds a week apart "
            "differ, and a broken release breaks the image with no change on your side."
        ),
        bad="RUN pip install --no-cache-dir flask 'requests>=2'",
        good="RUN pip install --no-cache-dir flask==3.0.3 requests==2.32.3",
        fix="pin exact versions (name==x.y.z), or better: install a hashed lock file",
        exceptions="Local paths, archives and VCS/URL requirements are not checked here.",
    )

    def check(self, dockerfile: Dockerfile, context: BuildContext) -> Iterator[Finding]:
        for instr in dockerfile.of("RUN"):
            for command in instr.commands:
                install = pip_install(command)
                if install is None:
                    continue
                loose = [r for r in install.requirements if not is_local(r) and not is_pinned(r)]
                if loose:
                    line = dockerfile.locate(instr, loose[0])
                    yield self.finding(dockerfile, line, f"unpinned: {', '.join(loose)}")
