"""RBX1104: ``pip install -r`` of a requirements file without hashes."""

from __future__ import annotations

from collections.abc import Iterator

from reprobox.dockerfile import Dockerfile
from reprobox.lint.buildcontext import BuildContext
from reprobox.lint.commands import normalise, pip_install
from reprobox.lint.rules.interface import Category, Finding, Rule, RuleMeta, Severity


class RequirementsWithoutHashes(Rule):
    """Reads each ``-r`` file from the build context; it must carry ``--hash=`` entries."""

    meta = RuleMeta(
        id="RBX1104",
        title="Requirements file installed without hashes",
        category=Category.REPRODUCIBILITY,
        severity=Severity.WARNING,
        rationale=(
            "Exact versions are not enough: a file at a version can be replaced on an index "
            "mirror, and transitive dependencies left out of the file float. A requirements "
            "file with `--hash=sha256:` for every package (pip-compile --generate-hashes, "
            "uv pip compile --generate-hashes) makes pip refuse anything else."
        ),
        bad="COPY requirements.txt .\nRUN pip install -r requirements.txt",
        good="COPY requirements.lock .\nRUN pip install --require-hashes -r requirements.lock",
        bad_files=(("requirements.txt", "flask==3.0.3\n"),),
        good_files=(("requirements.lock", f"flask==3.0.3 \\\n    --hash=sha256:{'0' * 64}\n"),),
        fix="generate the file with hashes (uv pip compile --generate-hashes) and "
        "install with --require-hashes",
        exceptions="Files that are not in the build context cannot be read and are skipped.",
    )

    def check(self, dockerfile: Dockerfile, context: BuildContext) -> Iterator[Finding]:
        for instr in dockerfile.of("RUN"):
            for command in instr.commands:
                install = pip_install(command)
                for name in install.requirement_files if install else ():
                    text = _read(context, name)
                    if text is not None and "--hash" not in text:
                        line = dockerfile.locate(instr, name)
                        yield self.finding(dockerfile, line, f"{name} has no --hash entries")


def _read(context: BuildContext, name: str) -> str | None:
    """The requirements file as the context holds it (by path, else by unique base name)."""
    text = context.read(normalise(name))
    if text is not None:
        return text
    found = context.find(name.rsplit("/", 1)[-1])
    return context.read(found[0]) if len(found) == 1 else None
