"""RBX1105: a lockfile is in the build context but the install does not enforce it."""

from __future__ import annotations

from collections.abc import Iterator

from reprobox.dockerfile import Dockerfile
from reprobox.dockerfile.shell import ShellCommand
from reprobox.lint.buildcontext import BuildContext
from reprobox.lint.rules.interface import Category, Finding, Rule, RuleMeta, Severity

_PROJECT = (("uv.lock", "version = 1\n"), ("pyproject.toml", '[project]\nname = "app"\n'))


class LockfileNotEnforced(Rule):
    """``uv sync``, ``npm install``, ``yarn install``, ``pipenv install`` that re-lock."""

    meta = RuleMeta(
        id="RBX1105",
        title="Lockfile present but not enforced",
        category=Category.REPRODUCIBILITY,
        severity=Severity.WARNING,
        rationale=(
            "A lockfile only helps if the install fails when it is stale. `uv sync`, "
            "`npm install`, `yarn install` and `pipenv install` silently re-resolve and "
            "update the lock inside the image when it disagrees with the manifest, so the "
            "image no longer matches what was reviewed."
        ),
        bad="COPY uv.lock pyproject.toml ./\nRUN uv sync",
        good="COPY uv.lock pyproject.toml ./\nRUN uv sync --locked",
        bad_files=_PROJECT,
        good_files=_PROJECT,
        fix="uv sync --locked, npm ci, yarn install --frozen-lockfile (--immutable), "
        "pipenv install --deploy",
        exceptions="Only checked when the lockfile is in the build context.",
    )

    def check(self, dockerfile: Dockerfile, context: BuildContext) -> Iterator[Finding]:
        locks = set(context.lockfiles)
        if not locks:
            return
        for instr in dockerfile.of("RUN"):
            for command in instr.commands:
                problem = _unenforced(command, locks)
                if problem:
                    line = dockerfile.locate(instr, command.program)
                    yield self.finding(dockerfile, line, problem)


_CHECKS = (
    ("uv", ("sync",), "uv.lock", ("--locked", "--frozen"), "uv sync may rewrite uv.lock"),
    ("yarn", ("install", "yarn"), "yarn.lock", ("--frozen-lockfile", "--immutable"),
     "yarn install may rewrite yarn.lock"),
    ("pipenv", ("install",), "Pipfile.lock", ("--deploy", "--ignore-pipfile"),
     "pipenv install may re-lock Pipfile.lock"),
)  # fmt: skip


def _unenforced(command: ShellCommand, locks: set[str]) -> str | None:
    argv = command.argv
    verb = argv[1] if len(argv) > 1 else "install"
    for program, verbs, lock, enforce, message in _CHECKS:
        if command.program == program and verb in verbs and lock in locks:
            return None if command.has(*enforce) else message
    if command.program == "npm" and verb in ("install", "i") and "package-lock.json" in locks:
        named = [w for w in argv[2:] if not w.startswith("-")]
        return None if named else "npm install ignores a stale package-lock.json; use npm ci"
    return None
