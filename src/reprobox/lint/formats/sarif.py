"""SARIF 2.1.0, with the full rule catalog (``tool.driver.rules`` with ``helpUri``)."""

from __future__ import annotations

import json
from pathlib import PurePosixPath
from typing import Any

from reprobox import __version__
from reprobox.lint.report import LintReport
from reprobox.lint.rules.interface import Finding, RuleMeta

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/reprobox/reprobox"


def render_sarif(report: LintReport) -> str:
    """The report as a SARIF 2.1.0 log with one run."""
    index = {meta.id: i for i, meta in enumerate(report.rules)}
    driver = {
        "name": "reprobox",
        "version": __version__,
        "informationUri": INFORMATION_URI,
        "rules": [_rule(meta) for meta in report.rules],
    }
    run = {
        "tool": {"driver": driver},
        "results": [_result(f, index) for f in report.findings],
        "columnKind": "unicodeCodePoints",
    }
    return json.dumps({"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}, indent=2) + "\n"


def _rule(meta: RuleMeta) -> dict[str, Any]:
    return {
        "id": meta.id,
        "name": "".join(w.capitalize() for w in meta.title.replace("`", "").split()[:8]),
        "shortDescription": {"text": meta.title.replace("`", "")},
        "fullDescription": {"text": meta.rationale},
        "helpUri": meta.help_uri,
        "help": {"text": f"{meta.rationale}\nFix: {meta.fix}"},
        "defaultConfiguration": {"level": meta.severity.to_sarif_level()},
        "properties": {"category": meta.category.value},
    }


def _uri(path: str) -> str:
    """Relative paths stay relative (to the working directory); absolute ones become file URIs."""
    return PurePosixPath(path).as_uri() if path.startswith("/") else path


def _result(finding: Finding, index: dict[str, int]) -> dict[str, Any]:
    message = f"{finding.message}. Fix: {finding.fix}" if finding.fix else finding.message
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "level": finding.severity.to_sarif_level(),
        "message": {"text": message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": _uri(finding.path)},
                    "region": {"startLine": max(finding.line, 1)},
                }
            }
        ],
    }
    if finding.rule_id in index:
        result["ruleIndex"] = index[finding.rule_id]
    return result
