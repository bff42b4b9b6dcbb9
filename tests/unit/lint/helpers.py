"""Helpers shared by the lint tests: lint text or a small context and read the lines."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, settings

from reprobox.lint import LintOptions, lint_paths, lint_text
from reprobox.lint.rules.interface import Finding


def findings(text: str, rule_id: str) -> list[Finding]:
    """The findings of ``rule_id`` for Dockerfile text (no build context)."""
    return [f for f in lint_text(text).findings if f.rule_id == rule_id]


def lines(text: str, rule_id: str) -> list[int]:
    """The reported lines of ``rule_id`` for Dockerfile text."""
    return [f.line for f in findings(text, rule_id)]


def make_context(root: Path, dockerfile: str, files: dict[str, str]) -> Path:
    """Write a build context (``files`` relative path -> content) and its Dockerfile."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "Dockerfile").write_text(dockerfile)
    for relpath, content in files.items():
        target = root / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        if relpath.endswith("/"):
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.write_text(content)
    return root / "Dockerfile"


def context_findings(
    root: Path, dockerfile: str, files: dict[str, str], rule_id: str
) -> list[Finding]:
    """The findings of ``rule_id`` for a Dockerfile linted with its build context."""
    path = make_context(root, dockerfile, files)
    report = lint_paths([path], LintOptions())
    return [f for f in report.findings if f.rule_id == rule_id]


def context_lines(root: Path, dockerfile: str, files: dict[str, str], rule_id: str) -> list[int]:
    return [f.line for f in context_findings(root, dockerfile, files, rule_id)]


# Differential property tests (our matcher against a reference): many examples, derandomized so
# CI is stable, no example database.
DIFFERENTIAL = settings(
    max_examples=1500,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


# Runs the CLI in a fresh interpreter (one thread, as a user's shell starts it) and appends a
# line to the file named by argv[1] for each fork, so a test sees that processes were used.
COUNT_FORKS = """
import os, sys
from reprobox.cli.main import main
log, real_fork = sys.argv.pop(1), os.fork
def counting_fork():
    pid = real_fork()
    if pid:
        with open(log, "a") as out:
            out.write(f"{pid}\\n")
    return pid
os.fork = counting_fork
sys.argv[0] = "reprobox"
main()
"""


def lint_cli(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[bytes], int]:
    """``reprobox lint ARGS`` in a subprocess started in ``tmp_path``: the result (bytes) and
    how many processes it forked."""
    log = tmp_path / f"forks-{len(list(tmp_path.glob('forks-*')))}.log"
    done = subprocess.run(
        [sys.executable, "-c", COUNT_FORKS, str(log), "lint", *args],
        capture_output=True, timeout=300, check=False, cwd=tmp_path,
    )  # fmt: skip
    forks = len(log.read_text().split()) if log.exists() else 0
    return done, forks
