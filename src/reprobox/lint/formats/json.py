"""JSON: one object with ``schema_version`` so consumers can detect format changes."""

from __future__ import annotations

import json
from typing import Any

from reprobox import __version__
from reprobox.lint.report import LintReport
from reprobox.lint.rules.interface import Finding, Severity

SCHEMA_VERSION = 1


def render_json(report: LintReport) -> str:
    """The report as a JSON document (stable key order)."""
    uris = {meta.id: meta.help_uri for meta in report.rules}
    document = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "reprobox", "version": __version__},
        "files": list(report.files),
        "findings": [_finding(f, uris.get(f.rule_id, "")) for f in report.findings],
        "summary": _summary(report),
    }
    return json.dumps(document, indent=2) + "\n"


def _finding(finding: Finding, uri: str) -> dict[str, Any]:
    return {
        "rule_id": finding.rule_id,
        "severity": finding.severity.value,
        "category": finding.category.value,
        "path": finding.path,
        "line": finding.line,
        "message": finding.message,
        "source": finding.source,
        "fix": finding.fix,
        "help_uri": uri,
    }


def _summary(report: LintReport) -> dict[str, Any]:
    counts: dict[str, Any] = {s.value: report.count(s) for s in Severity}
    return {
        "files": len(report.files),
        "findings": len(report.findings),
        **counts,
        "suppressed": report.suppressed,
        "fail_on": report.fail_on.value,
        "failed": report.failed,
    }
