"""RBX1103: ``pip install`` of packages without an exact version."""

from __future__ import annotations

from collections.abc import Iterator

from reprobox.dockerfile import Dockerfile, Instruction
from reprobox.lint.buildcontext import BuildContext
from reprobox.lint.commands import is_local, is_pinned, pip_install, vcs_unpinned, vcs_url
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
        fix="pin exact versions (name==x.y.z) and VCS requirements to a full commit hash "
        "(git+https://host/repo.git@<40 hex>), or better: install a hashed lock file",
        exceptions="Local paths (any argument with a `/`, as pip reads it), archives and URLs "
        "are not checked here. A VCS requirement (`git+https://...`) must name a full commit "
        "hash: a branch or tag moves. A constraints file (`-c`) is not read, so packages it "
        "pins are still reported.",
    )

    def check(self, dockerfile: Dockerfile, context: BuildContext) -> Iterator[Finding]:
        for instr in dockerfile.runs:
            for command in instr.commands:
                install = pip_install(command)
                if install is None:
                    continue
                yield from self._check(dockerfile, instr, install.requirements)

    def _check(
        self, dockerfile: Dockerfile, instr: Instruction, requirements: tuple[str, ...]
    ) -> Iterator[Finding]:
        named = [r for r in requirements if not is_local(r) and vcs_url(r) is None]
        loose = [r for r in named if not is_pinned(r)]
        if loose:
            line = dockerfile.locate(instr, loose[0])
            yield self.finding(dockerfile, line, f"unpinned: {', '.join(loose)}")
        moving = [r for r in requirements if vcs_unpinned(r)]
        if moving:
            line = dockerfile.locate(instr, moving[0])
            message = f"VCS requirement not pinned to a commit: {', '.join(moving)}"
            yield self.finding(dockerfile, line, message)
