"""RBX3001: the image runs as root (no ``USER``, or root as the last ``USER``)."""

from __future__ import annotations

from collections.abc import Iterator

from reprobox.dockerfile import Dockerfile, Instruction, Stage
from reprobox.lint.buildcontext import BuildContext
from reprobox.lint.rules.interface import Category, Finding, Rule, RuleMeta, Severity

_ROOT = frozenset({"root", "0"})


class RunsAsRoot(Rule):
    """The final stage (with the stages it builds ``FROM``) must end on a non-root ``USER``."""

    meta = RuleMeta(
        id="RBX3001",
        title="Image runs as root",
        category=Category.SECURITY,
        severity=Severity.WARNING,
        rationale=(
            "A process running as root in a container is root on the kernel it shares with "
            "the host; one escape bug away from the host. A `USER` with a fixed numeric id "
            "costs one line."
        ),
        bad='FROM python:3.12-slim\nCOPY app.py /app/\nCMD ["python", "/app/app.py"]',
        good="FROM python:3.12-slim\nRUN useradd --uid 10001 --no-create-home app\n"
        'COPY app.py /app/\nUSER 10001\nCMD ["python", "/app/app.py"]',
        fix="create an unprivileged user and add USER <uid> after the last step that needs root",
        exceptions="Base images that already switch to a non-root user: say so with "
        "`# reprobox: ignore=RBX3001 (base image runs as nobody)`.",
    )

    def check(self, dockerfile: Dockerfile, context: BuildContext) -> Iterator[Finding]:
        final = dockerfile.final_stage
        if final is None:
            return
        last = _last_user(dockerfile.stages, final)
        if last is None:
            yield self.finding(dockerfile, final.line, "no USER: the container runs as root")
        elif last.args and last.args[0].split(":", 1)[0].lower() in _ROOT:
            yield self.finding(dockerfile, last.line, "the last USER is root")


def _last_user(stages: tuple[Stage, ...], stage: Stage) -> Instruction | None:
    seen: set[int] = set()
    current: Stage | None = stage
    while current is not None and current.index not in seen:
        seen.add(current.index)
        users = [i for i in current.instructions if i.cmd == "USER"]
        if users:
            return users[-1]
        parent = current.parent_stage
        current = stages[parent] if parent is not None and parent < len(stages) else None
    return None
