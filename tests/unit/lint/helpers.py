"""Helpers shared by the lint tests: lint text or a small context and read the lines."""

from __future__ import annotations

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
