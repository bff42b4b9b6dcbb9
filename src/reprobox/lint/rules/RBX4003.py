"""RBX4003: ``pip install`` leaves its download cache in the layer."""

from __future__ import annotations

from collections.abc import Iterator

from reprobox.dockerfile import Dockerfile, Instruction
from reprobox.lint.buildcontext import BuildContext
from reprobox.lint.commands import cache_mount, pip_install, stage_env
from reprobox.lint.rules.interface import Category, Finding, Rule, RuleMeta, Severity

_OFF = ("1", "true", "yes", "on", "off", "0", "false")


class PipCacheLeft(Rule):
    """pip installs need ``--no-cache-dir``, ``PIP_NO_CACHE_DIR`` or a cache mount."""

    meta = RuleMeta(
        id="RBX4003",
        title="pip cache left in the layer",
        category=Category.BLOAT,
        severity=Severity.INFO,
        rationale=(
            "pip keeps every wheel it downloads in `~/.cache/pip`. In an image that cache is "
            "dead weight (often as large as the installed packages) that nobody will reuse."
        ),
        bad="RUN pip install -r requirements.lock",
        good="RUN pip install --no-cache-dir -r requirements.lock",
        fix="add --no-cache-dir, set ENV PIP_NO_CACHE_DIR=1, or use "
        "RUN --mount=type=cache,target=/root/.cache/pip",
        exceptions="`uv pip install` is not checked (uv's cache is separate: use a cache mount).",
    )

    def check(self, dockerfile: Dockerfile, context: BuildContext) -> Iterator[Finding]:
        for instr in dockerfile.of("RUN"):
            if _cached(dockerfile, instr):
                line = dockerfile.locate(instr, "install")
                yield self.finding(dockerfile, line, "pip cache is left in the layer")


def _cached(dockerfile: Dockerfile, instr: Instruction) -> bool:
    installs = [pip_install(c) for c in instr.commands]
    pips = [i for i in installs if i is not None and i.command.program != "uv"]
    if not pips or cache_mount(instr, ".cache/pip", ".cache"):
        return False
    if all(i.has("--no-cache-dir") for i in pips):
        return False
    if "PIP_NO_CACHE_DIR" in instr.original:
        return False
    stage = dockerfile.stages[instr.stage] if 0 <= instr.stage < len(dockerfile.stages) else None
    env = stage_env(stage, instr.line, {}) if stage else {}
    return env.get("PIP_NO_CACHE_DIR", "").strip("\"'").lower() not in _OFF
