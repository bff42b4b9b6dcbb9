"""RBX4003: ``pip install`` leaves its download cache in the layer."""

from __future__ import annotations

from collections.abc import Iterator

from reprobox.dockerfile import Dockerfile, Instruction
from reprobox.lint.buildcontext import BuildContext
from reprobox.lint.commands import inherited_env, mount_targets, pip_install
from reprobox.lint.rules.interface import Category, Finding, Rule, RuleMeta, Severity

# pip turns its cache off for any value it accepts (pip's strtobool), "no" and "0" included.
_VALID = frozenset({"y", "yes", "t", "true", "on", "1", "n", "no", "f", "false", "off", "0"})


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
        exceptions="`uv pip install` is not checked (uv's cache is separate: use a cache mount). "
        "`PIP_NO_CACHE_DIR` with any value pip accepts (`1`, `no`, `off`...) turns the cache "
        "off, also when an earlier stage this one builds on sets it; so does a cache, tmpfs "
        "or bind mount on the cache folder (`~/.cache` or `~/.cache/pip`).",
    )

    def check(self, dockerfile: Dockerfile, context: BuildContext) -> Iterator[Finding]:
        for instr in dockerfile.runs:
            if _cached(dockerfile, instr):
                line = dockerfile.locate(instr, "install")
                yield self.finding(dockerfile, line, "pip cache is left in the layer")


def _cached(dockerfile: Dockerfile, instr: Instruction) -> bool:
    installs = [pip_install(c) for c in instr.commands]
    pips = [i for i in installs if i is not None and i.command.program != "uv"]
    if not pips or any(t.endswith(("/.cache", "/.cache/pip")) for t in mount_targets(instr)):
        return False
    if all(i.has("--no-cache-dir") for i in pips):
        return False
    if "PIP_NO_CACHE_DIR" in instr.original:
        return False
    value = inherited_env(dockerfile, instr).get("PIP_NO_CACHE_DIR")
    return value is None or value.strip("\"'").lower() not in _VALID
